#!/usr/bin/env bash
# Generates the Italian voice prompts in campaigns/prompts/it/, one WAV file
# a segment, with Debian's espeak-ng (voice "it") and sox. The output is
# committed, so that building and running need neither tool.
#
# Format: 8 kHz mono µ-law WAV (format 7). µ-law is what most trunks carry
# anyway (a µ-law prompt played on a µ-law call is bit-exact, and an A-law
# call loses nothing audible), and it takes half the space of 16-bit PCM.
#
# File names (stable; internal/voice/say produces them):
#   giorno-lunedi … giorno-domenica   days of the week, no accents in names
#   mese-gennaio … mese-dicembre      months
#   num-0 … num-99                    numbers, each recorded whole
#                                     ("ventuno", "ventotto": Italian elides)
#   num-100, num-200 … num-900        hundreds: 123 is num-100 + num-23
#   num-una                           "una", the hour 1 ("alle ore una")
#   parola-*                          joining words ("alle ore", "e", "primo")
#   frase-*                           whole phrases of the call scripts
# SEGMENTS.tsv, written next to the files, lists every name with its text:
# the script a speaker reads when recording.
#
# Professional recordings: put the recording at the segment's file name
# (8 kHz mono WAV, 16-bit PCM, A-law or µ-law) and add the name, without
# .wav, on a line of campaigns/prompts/it/RECORDED. This script never
# overwrites a name listed there. Lines starting with # are comments.
#
# Idempotent: output is deterministic (no dither), and a file is replaced
# only when its new content differs.
set -euo pipefail
cd "$(dirname "$0")/.."

OUT=campaigns/prompts/it
RATE=${RATE:-145} # words a minute; espeak-ng's default of 175 is hurried on a phone line

if ! command -v espeak-ng >/dev/null 2>&1 || ! command -v sox >/dev/null 2>&1; then
	if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
		echo "gen-prompts: installing espeak-ng and sox…" >&2
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q espeak-ng sox >/dev/null ||
			{ apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q espeak-ng sox >/dev/null; }
	fi
	command -v espeak-ng >/dev/null && command -v sox >/dev/null ||
		{ echo "gen-prompts: espeak-ng and sox are required (apt-get install espeak-ng sox)" >&2; exit 1; }
fi

mkdir -p "$OUT"
[[ -f $OUT/RECORDED ]] || cat >"$OUT/RECORDED" <<'EOF'
# Segments replaced by professional recordings: one name a line, without
# .wav. scripts/gen-prompts.sh never overwrites these files.
EOF

# segments prints "name<TAB>text", one segment a line.
segments() {
	local n
	for d in lunedi:lunedì martedi:martedì mercoledi:mercoledì giovedi:giovedì venerdi:venerdì sabato:sabato domenica:domenica; do
		printf 'giorno-%s\t%s\n' "${d%%:*}" "${d#*:}"
	done
	for m in gennaio febbraio marzo aprile maggio giugno luglio agosto settembre ottobre novembre dicembre; do
		printf 'mese-%s\t%s\n' "$m" "$m"
	done
	for n in $(seq 0 99) 100 200 300 400 500 600 700 800 900; do
		printf 'num-%d\t%d\n' "$n" "$n"
	done
	cat <<'EOF'
num-una	una
parola-alle-ore	alle ore
parola-e	e
parola-primo	primo
frase-buongiorno	Buongiorno, la chiamiamo dal Cup della Regione.
frase-buonasera	Buonasera, la chiamiamo dal Cup della Regione.
frase-ricordiamo-appuntamento	Le ricordiamo l'appuntamento prenotato per
frase-conferma-o-disdici	Per confermare l'appuntamento prema 1; per disdirlo prema 2.
frase-appuntamento-confermato	L'appuntamento è confermato.
frase-disdetta-registrata	La sua richiesta di disdetta è stata registrata.
frase-posto-anticipato	Si è liberato un posto per la prestazione che lei ha prenotato, in una data più vicina:
frase-accetta-o-mantieni	Per accettare il nuovo appuntamento prema 1; per mantenere quello attuale prema 2.
frase-stessa-struttura-invece-di	nella stessa struttura, invece del suo appuntamento attuale di
frase-offerta-valida-fino	L'offerta vale fino
frase-appuntamento-spostato	Il suo appuntamento è stato spostato alla nuova data.
frase-spostamento-richiesto	Abbiamo chiesto al Cup di spostare il suo appuntamento alla nuova data. La avviseremo quando lo spostamento sarà fatto; fino ad allora resta valido l'appuntamento attuale.
frase-posto-appena-preso	Ci dispiace, il posto è appena stato preso da un altro paziente. Il suo appuntamento attuale resta valido.
frase-posto-occupato-scuse	Ci scusiamo: il posto è stato occupato nel frattempo e non abbiamo potuto spostare il suo appuntamento. Il suo appuntamento attuale resta valido.
frase-offerta-scaduta	L'offerta di questo posto è scaduta. Il suo appuntamento attuale resta valido.
frase-accettazione-gia-registrata	Abbiamo già registrato la sua accettazione di questo posto.
frase-appuntamento-mantenuto	Il suo appuntamento attuale resta valido.
frase-risposta-non-valida	Non abbiamo ricevuto una risposta valida.
frase-ripetiamo	Ripetiamo.
frase-risposta-registrata	La sua risposta è stata registrata.
frase-grazie-arrivederci	Grazie, arrivederci.
frase-questionario	La chiamiamo per un breve questionario sul servizio che ha appena ricevuto.
frase-scala-1-5	Su una scala da 1 a 5, dove 1 vuol dire per niente soddisfatto e 5 molto soddisfatto,
frase-soddisfazione-servizio	quanto è soddisfatto del servizio ricevuto?
frase-soddisfazione-operatore	quanto è soddisfatto della cortesia e della competenza dell'operatore?
frase-premere-voto	Prema il tasto corrispondente al suo voto.
frase-richiamo-operatore	Un operatore la richiamerà per capire come migliorare il servizio.
frase-parlare-operatore	Per parlare con un operatore prema 0.
frase-trasferimento	La mettiamo in contatto con un operatore. Resti in linea, per favore.
frase-trasferimento-non-riuscito	Al momento nessun operatore è disponibile. La richiameremo al più presto.
frase-spostamento-nuova-data	Per un imprevisto la struttura deve spostare il suo appuntamento. La nuova data che le proponiamo è
frase-accetta-o-operatore	Per accettare la nuova data prema 1; per parlare con un operatore prema 0.
frase-conferma-in-arrivo	Riceverà la conferma del nuovo appuntamento appena il Cup lo avrà registrato.
frase-spostamento-appuntamento-del	Per un imprevisto la struttura deve spostare il suo appuntamento del
frase-riprenotare-operatore	Per fissare una nuova data con un operatore prema 0.
frase-operatore-richiamera	Un operatore del Cup la richiamerà al più presto.
frase-questionario-telefonata	La chiamiamo per un breve questionario sulla telefonata che ha fatto oggi al Cup,
frase-con-operatore	con l'operatore numero
frase-questionario-tasti	Sono quattro domande, a cui può rispondere con i tasti del telefono.
frase-rifiuto-istruzioni	Se non desidera ricevere questionari, prema 9.
frase-domanda-cortesia	quanto è soddisfatto della cortesia dell'operatore?
frase-domanda-competenza	quanto è soddisfatto della competenza dell'operatore?
frase-domanda-risolto	Il motivo della sua telefonata è stato risolto? Prema 1 se per niente, 5 se del tutto.
frase-voto-da-1-a-5	Prema un tasto da 1 a 5.
frase-grazie-risposte	Grazie per le sue risposte.
frase-nessun-questionario	Non riceverà altri questionari dal Cup.
EOF
}

is_recorded() { grep -qxF "$1" <(sed -e 's/#.*//' -e 's/[[:space:]]*$//' "$OUT/RECORDED"); }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
made=0 kept=0 skipped=0
segments >"$tmp/SEGMENTS.tsv"
while IFS=$'\t' read -r name text; do
	if is_recorded "$name"; then
		skipped=$((skipped + 1))
		continue
	fi
	espeak-ng -v it -s "$RATE" -w "$tmp/raw.wav" -- "$text"
	# -D: no dither, so the output is the same on every run. silence …
	# reverse … trims the silence espeak-ng leaves at both ends; norm gives
	# every segment the same peak level, so joined segments match.
	sox -D "$tmp/raw.wav" -r 8000 -c 1 -e u-law -b 8 "$tmp/$name.wav" \
		silence 1 0.01 0.3% reverse silence 1 0.01 0.3% reverse norm -3
	if cmp -s "$tmp/$name.wav" "$OUT/$name.wav"; then
		kept=$((kept + 1))
	else
		mv "$tmp/$name.wav" "$OUT/$name.wav"
		made=$((made + 1))
	fi
done <"$tmp/SEGMENTS.tsv"
{
	printf '# name\ttext (generated by scripts/gen-prompts.sh; do not edit)\n'
	cat "$tmp/SEGMENTS.tsv"
} >"$OUT/SEGMENTS.tsv"

# A file no segment names any more is reported, not deleted: it may be a
# recording someone is about to list.
for f in "$OUT"/*.wav; do
	n=$(basename "$f" .wav)
	cut -f1 "$tmp/SEGMENTS.tsv" | grep -qxF "$n" || echo "gen-prompts: $f is not a known segment" >&2
done
echo "gen-prompts: $made written, $kept unchanged, $skipped recorded (skipped); $(du -sh "$OUT" | cut -f1) in $OUT"
