package web

import (
	"html"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// rawCodes are the stored codes whose Italian differs from them: none of
// them should reach a page a person reads.
func rawCodes() []string {
	var out []string
	for _, table := range codeLabels {
		for code, it := range table {
			if code != it {
				out = append(out, code)
			}
		}
	}
	for code, it := range statusLabels {
		if code != it {
			out = append(out, code)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

var (
	hrefs  = regexp.MustCompile(`href="(/[^"]*)"`)
	tags   = regexp.MustCompile(`(?s)<[^>]*>`)
	blocks = regexp.MustCompile(`(?s)<(style|script|svg)\b.*?</(style|script|svg)>`)
)

// visibleText is what a person reads on a page: no tags, no styles.
func visibleText(body string) string {
	return html.UnescapeString(tags.ReplaceAllString(blocks.ReplaceAllString(body, " "), " "))
}

// crawl visits every page of the console c can reach from start by links,
// and returns each page's visible text by address; downloads (CSV) are
// read as they are.
func crawl(t *testing.T, c *client, start string, limit int) map[string]string {
	t.Helper()
	seen := map[string]string{}
	queue := []string{start}
	for len(queue) > 0 && len(seen) < limit {
		path := queue[0]
		queue = queue[1:]
		if _, ok := seen[path]; ok {
			continue
		}
		p := c.get(path)
		if p.status != http.StatusOK {
			t.Fatalf("%s: %d\n%s", path, p.status, p.body)
		}
		if !strings.HasPrefix(p.header.Get("Content-Type"), "text/html") {
			// Downloads are machine formats of their own (the reports'
			// CSV, the rejected rows with their reason's code beside
			// its Italian); pages are what people read.
			continue
		}
		seen[path] = visibleText(p.body)
		for _, m := range hrefs.FindAllStringSubmatch(p.body, -1) {
			next := html.UnescapeString(m[1])
			if strings.HasPrefix(next, "/static/") || strings.HasSuffix(next, ".pdf") {
				continue
			}
			if _, ok := seen[next]; !ok {
				queue = append(queue, next)
			}
		}
	}
	return seen
}

func TestNoRawCodes(t *testing.T) {
	t.Parallel()
	b := setup(t)
	codes := rawCodes()
	finders := make(map[string]*regexp.Regexp, len(codes))
	for _, code := range codes {
		finders[code] = regexp.MustCompile(`(^|[^\p{L}\p{N}_-])` + regexp.QuoteMeta(code) + `($|[^\p{L}\p{N}_-])`)
	}
	for _, role := range Roles {
		t.Run(string(role), func(t *testing.T) {
			name := roleUsers[role]
			if name == "" {
				t.Skipf("no seeded account for %s", role)
			}
			c := b.signedIn(t, name)
			pages := crawl(t, c, "/panoramica", 300)
			if len(pages) < 5 {
				t.Fatalf("only %d pages reached: %v", len(pages), pages)
			}
			if role == RoleAuditor && !slices.ContainsFunc(slices.Collect(maps.Keys(pages)), func(p string) bool { return strings.HasPrefix(p, "/livelli/contatti") }) {
				t.Fatalf("the walk never reached the calls behind a figure: %v", slices.Collect(maps.Keys(pages)))
			}
			for path, text := range pages {
				for code, re := range finders {
					if loc := re.FindStringIndex(text); loc != nil {
						from, to := max(0, loc[0]-60), min(len(text), loc[1]+60)
						t.Errorf("%s shows the stored code %q: …%s…", path, code, strings.Join(strings.Fields(text[from:to]), " "))
					}
				}
			}
		})
	}
}

func TestEveryCodeHasItalian(t *testing.T) {
	for kind, table := range codeLabels {
		for code, it := range table {
			if strings.TrimSpace(it) == "" || strings.Contains(it, "_") {
				t.Errorf("table %d: %q has no Italian (%q)", kind, code, it)
			}
		}
	}
}
