package twiliotest

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"net/url"
	"sort"
	"strings"
)

// Signature computes the X-Twilio-Signature Twilio puts on a webhook it
// POSTs to webhookURL with params: HMAC-SHA1 keyed with the auth token over
// the URL followed by every parameter name and value, sorted by name,
// base64-encoded. It is written from Twilio's description rather than taken
// from twilio-go, so that tests check the two against each other.
func Signature(authToken, webhookURL string, params url.Values) string {
	keys := make([]string, 0, len(params))
	for k := range params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString(webhookURL)
	for _, k := range keys {
		values := append([]string(nil), params[k]...)
		sort.Strings(values)
		for _, v := range values {
			b.WriteString(k)
			b.WriteString(v)
		}
	}
	mac := hmac.New(sha1.New, []byte(authToken))
	mac.Write([]byte(b.String()))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}
