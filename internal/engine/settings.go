package engine

import (
	"cmp"
	"errors"
	"fmt"
	"strings"

	"github.com/richiamo/richiamo/internal/config"
	"github.com/richiamo/richiamo/internal/cup/mssql"
	"github.com/richiamo/richiamo/internal/dialer"
	"github.com/richiamo/richiamo/internal/urgent"
	"github.com/richiamo/richiamo/internal/voice"
	"github.com/richiamo/richiamo/internal/voice/say"
	"github.com/richiamo/richiamo/internal/web"
	"github.com/richiamo/richiamo/internal/yamlfile"
)

// LoadConfig reads the configuration file as config.Load does, then checks
// the settings whose rule reaches across the packages' defaults (see
// CheckSettings), so that every bad setting stops start-up.
func LoadConfig(path string, getenv func(string) string) (config.Config, error) {
	cfg, err := config.Load(path, getenv)
	if err != nil {
		return cfg, err
	}
	err = CheckSettings(cfg)
	if err == nil {
		err = UseRecordings(cfg)
	}
	if err != nil {
		if path != "" {
			return config.Config{}, fmt.Errorf("config %s: %w", path, err)
		}
		return config.Config{}, fmt.Errorf("config: %w", err)
	}
	return cfg, nil
}

// UseRecordings lays voice.recordings over the built-in voice segments for
// the process, so that the scripts and the agendas' facilities loaded
// after it find them; a recording that cannot be used is an error naming
// the key and its line.
func UseRecordings(cfg config.Config) error {
	if cfg.Voice.Recordings == "" {
		return nil // the built-in segments, as the process started
	}
	if err := say.UseRecordings(cfg.Path(cfg.Voice.Recordings)); err != nil {
		return cfg.Lines().At("voice.recordings", "%v", err)
	}
	return nil
}

// CheckSettings checks what config.Validate cannot: rules between settings
// that the file may leave to the packages' defaults, which only the engine
// knows together. Each error names the key, and its line.
func CheckSettings(cfg config.Config) error {
	var errs []error
	lines := cfg.Lines()
	v := cfg.Voice
	minPort := cmp.Or(v.RTPPortMin, voice.DefaultRTPPortMin)
	maxPort := cmp.Or(v.RTPPortMax, voice.DefaultRTPPortMax)
	channels := cmp.Or(v.Channels, dialer.DefaultChannels)
	if maxPort <= minPort {
		errs = append(errs, lines.At("voice.rtp_port_max", "%d must be above voice.rtp_port_min (%d)", maxPort, minPort))
	} else if calls := (maxPort - minPort + 1) / 2; calls < channels {
		key := "voice.rtp_port_max"
		if !lines.Written(key) && lines.Written("voice.channels") {
			key = "voice.channels"
		}
		errs = append(errs, lines.At(key, "the RTP ports %d–%d hold %d calls, fewer than voice.channels (%d)", minPort, maxPort, calls, channels))
	}
	if u := UrgentSettings(cfg); u.History < u.Recent {
		key := "urgent.history"
		if !lines.Written(key) {
			key = "urgent.recent"
		}
		errs = append(errs, lines.At(key, "urgent.history (%s) must be at least urgent.recent (%s)", u.History, u.Recent))
	}
	ttl := cmp.Or(cfg.Web.SessionTTL.D(), web.DefaultSessionTTL)
	if idle := cmp.Or(cfg.Web.IdleTimeout.D(), web.DefaultIdleTimeout); idle > ttl {
		errs = append(errs, lines.At("web.idle_timeout", "%s is longer than web.session_ttl (%s)", idle, ttl))
	}
	for _, n := range cfg.CUP.Nodes {
		if n.RecallQuery != "" {
			if err := mssql.ValidateRecallQuery(n.Name, n.RecallQuery); err != nil {
				errs = append(errs, at(lines, err))
			}
		}
		if err := WriteBack(n).Validate(n.Name); err != nil {
			errs = append(errs, at(lines, err))
		}
	}
	return errors.Join(errs...)
}

// at places an error that starts with its key ("cup.nodes[ASL1].recall_query:
// …") on the key's line.
func at(lines yamlfile.Lines, err error) error {
	key, msg, ok := strings.Cut(err.Error(), ": ")
	if !ok {
		return err
	}
	return lines.At(key, "%s", msg)
}

// WriteBack is a configured node's write-back statements.
func WriteBack(n config.Node) mssql.WriteBack {
	return mssql.WriteBack{Cancel: n.WriteBack.Cancel, Move: n.WriteBack.Move, Book: n.WriteBack.Book}
}

// VoiceConfig maps the voice section of the configuration onto a Caller's
// Config, with the TLS files resolved against the file's directory. What
// the file leaves out stays zero: the voice package's defaults.
func VoiceConfig(cfg config.Config) voice.Config {
	v := cfg.Voice
	return voice.Config{
		Bind:              v.Bind,
		Advertise:         v.Advertise,
		Transport:         v.Trunk.Transport,
		Proxy:             v.Trunk.Proxy,
		Domain:            v.Trunk.Domain,
		CallerID:          v.Trunk.CallerID,
		PAssertedIdentity: v.Trunk.PAssertedIdentity,
		Username:          v.Trunk.Username,
		Password:          v.Trunk.Password,
		RTPPortMin:        v.RTPPortMin,
		RTPPortMax:        v.RTPPortMax,
		RingTimeout:       v.RingTimeout.D(),
		MaxDuration:       v.MaxDuration.D(),
		NoRTPTimeout:      v.NoRTPTimeout.D(),
		TLSCAFile:         cfg.Path(v.Trunk.TLSCAFile),
		TLSServerName:     v.Trunk.TLSServerName,
		TLSCertFile:       cfg.Path(v.Trunk.TLSCertFile),
		TLSKeyFile:        cfg.Path(v.Trunk.TLSKeyFile),
		Registrar:         v.Trunk.Registrar,
		RegisterExpires:   v.Trunk.RegisterExpires.D(),
	}
}

// CUPNode maps one configured CUP node onto the SQL Server source's Node,
// its CA file resolved against the file's directory. What the file leaves
// out stays zero (the mssql package's defaults), except the read-only
// intent, whose zero would mean false.
func CUPNode(cfg config.Config, n config.Node) mssql.Node {
	readOnly := mssql.DefaultReadOnlyIntent
	if n.ReadOnlyIntent != nil {
		readOnly = *n.ReadOnlyIntent
	}
	return mssql.Node{Name: n.Name, Server: n.Server, Port: n.Port, Database: n.Database, User: n.User,
		Password: n.Password, Encrypt: n.Encrypt, TrustServerCertificate: n.TrustServerCertificate,
		CAFile: cfg.Path(n.CAFile), ServerName: n.ServerName, ReadOnlyIntent: readOnly,
		ConnectTimeout: n.ConnectTimeout.D(), QueryTimeout: n.QueryTimeout.D(), Query: n.Query}
}

// UrgentSettings maps the urgent section onto the ranking's Settings; a key
// left out keeps urgent.DefaultSettings.
func UrgentSettings(cfg config.Config) urgent.Settings {
	s := urgent.DefaultSettings
	if d := cfg.Urgent.Recent.D(); d != 0 {
		s.Recent = d
	}
	if d := cfg.Urgent.History.D(); d != 0 {
		s.History = d
	}
	return s
}
