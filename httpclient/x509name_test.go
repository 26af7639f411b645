package httpclient

import (
	"crypto/x509"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	ts "github.com/gdhttp/gdhttp/internal/testserver"
)

// §1.15.5: a child's issuer and a parent's subject are compared as
// mbedTLS's x509_name_cmp does (x509_crt_check_parent, the self-issued
// checks), rule by rule, on names encoded in the test: the same RDNs in the
// same structure, the same OIDs, values equal by x509_string_cmp (identical
// tag and bytes, or UTF8String/PrintableString in any mix equal but for
// ASCII case). A name mbedTLS cannot parse equals none.
func TestNamesEqualMbedTLS(t *testing.T) {
	const (
		u8 = ts.TagUTF8String
		pr = ts.TagPrintableString
		ia = ts.TagIA5String
		nu = ts.TagNumericString
		tt = 20 // T61String
	)
	cn := func(tag int, v string) []byte { return ts.RawName(t, []ts.Attr{ts.CN(tag, v)}) }
	org := func(tag int, v string) ts.Attr { return ts.Attr{Type: ts.OIDOrganization, Tag: tag, Value: v} }
	cases := []struct {
		name string
		a, b []byte
		want bool
	}{
		{"identical", cn(pr, "Example CA"), cn(pr, "Example CA"), true},
		{"PrintableString and UTF8String", cn(pr, "Example CA"), cn(u8, "Example CA"), true},
		{"ASCII case", cn(u8, "Example CA"), cn(u8, "EXAMPLE CA"), true},
		{"ASCII case and string type", cn(pr, "Example CA"), cn(u8, "eXAMPLE ca"), true},
		{"non-letters 32 apart", cn(u8, "Example[CA"), cn(u8, "Example{CA"), false},
		{"non-ASCII letter case", cn(u8, "Exämple CA"), cn(u8, "ExÄmple CA"), false},
		{"another character", cn(u8, "Example CA"), cn(u8, "Example CB"), false},
		{"another length", cn(u8, "Example CA"), cn(u8, "Example CA "), false},
		{"IA5String and UTF8String", cn(ia, "Example CA"), cn(u8, "Example CA"), false},
		{"T61String and PrintableString", cn(tt, "Example CA"), cn(pr, "Example CA"), false},
		{"IA5String in another case", cn(ia, "Example CA"), cn(ia, "EXAMPLE CA"), false},
		{"IA5String identical", cn(ia, "Example CA"), cn(ia, "Example CA"), true},
		{"NumericString identical (mbedTLS cannot parse it)", cn(nu, "1234"), cn(nu, "1234"), false},
		{"another attribute type", cn(u8, "Example"), ts.RawName(t, []ts.Attr{org(u8, "Example")}), false},
		{"one more RDN", cn(u8, "Example CA"), ts.RawName(t, []ts.Attr{ts.CN(u8, "Example CA")}, []ts.Attr{org(u8, "Example")}), false},
		{"a multi-valued RDN and two RDNs",
			ts.RawName(t, []ts.Attr{ts.CN(u8, "Example CA"), org(u8, "Example")}),
			ts.RawName(t, []ts.Attr{ts.CN(u8, "Example CA")}, []ts.Attr{org(u8, "Example")}), false},
		{"a multi-valued RDN in another case",
			ts.RawName(t, []ts.Attr{ts.CN(pr, "Example CA"), org(pr, "Example")}),
			ts.RawName(t, []ts.Attr{ts.CN(u8, "EXAMPLE CA"), org(u8, "example")}), true},
		{"a multi-valued RDN in another order",
			ts.RawName(t, []ts.Attr{ts.CN(u8, "Example CA"), org(u8, "Example")}),
			ts.RawName(t, []ts.Attr{org(u8, "Example"), ts.CN(u8, "Example CA")}), false},
		{"empty", ts.RawName(t), ts.RawName(t), true},
		{"empty and not", ts.RawName(t), cn(u8, "E"), false},
		{"an empty RDN (mbedTLS cannot parse it)", ts.RawName(t, nil), ts.RawName(t, nil), false},
		{"bytes after a value (mbedTLS cannot parse it)",
			[]byte{0x30, 0x0c, 0x31, 0x0a, 0x30, 0x08, 0x06, 0x03, 0x55, 0x04, 0x03, 0x0c, 0x00, 0x05},
			[]byte{0x30, 0x0c, 0x31, 0x0a, 0x30, 0x08, 0x06, 0x03, 0x55, 0x04, 0x03, 0x0c, 0x00, 0x05}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			assert.Equal(t, c.want, namesEqual(c.a, c.b), "a→b")
			assert.Equal(t, c.want, namesEqual(c.b, c.a), "b→a")
		})
	}
}

// §1.15.5: a trusted CA whose subject x509_name_cmp takes for a child's
// issuer in other bytes is found under the subjects its pool lists
// (TestVerifyChainGreedy has the chains): every subject of a pool built by
// the caller, once; for the system pool, the roots crypto/x509 verifies
// against itself, and none on Windows, macOS and iOS, where it asks the
// platform's verifier — there a trusted CA must carry the issuer's bytes.
func TestTrustedSubjects(t *testing.T) {
	// Two CAs of the same name (NewCA's), listed once.
	ca, other := ts.NewCA(t), ts.NewCA(t)
	pool := x509.NewCertPool()
	pool.AddCert(ca.Certificate())
	pool.AddCert(other.Certificate())
	assert.Equal(t, [][]byte{ca.Certificate().RawSubject}, trustedSubjects(pool))

	switch runtime.GOOS {
	case "windows", "darwin", "ios":
		assert.Empty(t, trustedSubjects(nil))
	default:
		sys, err := x509.SystemCertPool()
		if err != nil {
			t.Skipf("no system pool: %v", err)
		}
		//lint:ignore SA1019 what trustedSubjects lists
		want := sys.Subjects()
		got := trustedSubjects(nil)
		assert.LessOrEqual(t, len(got), len(want))
		for _, s := range want {
			assert.Contains(t, got, s)
		}
	}
	require.Empty(t, trustedSubjects(x509.NewCertPool()))
}
