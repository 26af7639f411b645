package httpclient

import (
	"bytes"
	"crypto/x509"
	"encoding/asn1"
)

// nameAttr is one AttributeTypeAndValue of a distinguished name as
// mbedtls_x509_get_name keeps it (an mbedtls_x509_name node): the OID's
// content octets, the value's tag byte and content octets, and whether the
// next attribute belongs to the same RDN (next_merged).
type nameAttr struct {
	oid, value []byte
	tag        byte
	merged     bool
}

// The tags of the values mbedTLS parses in a name (x509_get_attr_type_value);
// any other fails the certificate.
const (
	tagBitString       = 0x03
	tagUTF8String      = 0x0c
	tagPrintableString = 0x13
	tagT61String       = 0x14
	tagIA5String       = 0x16
	tagUniversalString = 0x1c
	tagBMPString       = 0x1e
)

// parseX509Name is mbedtls_x509_get_name over der, a whole Name (its
// SEQUENCE included, as crypto/x509's RawIssuer and RawSubject hold it):
// the attributes in order, each RDN a SET of one or more
// AttributeTypeAndValue, each of those a SEQUENCE of exactly an OID and a
// value whose tag is one mbedTLS parses. ok is false where mbedTLS fails:
// an empty SET, an attribute with anything after its value, a value of
// another type (a NumericString, which crypto/x509 reads, included). An
// empty Name gives no attributes (mbedTLS leaves an empty subject as one
// zeroed node, which compares the same way; it refuses an empty issuer).
func parseX509Name(der []byte) (attrs []nameAttr, ok bool) {
	var seq asn1.RawValue
	if rest, err := asn1.Unmarshal(der, &seq); err != nil || len(rest) > 0 || seq.FullBytes[0] != 0x30 {
		return nil, false
	}
	for b := seq.Bytes; len(b) > 0; {
		var set asn1.RawValue
		rest, err := asn1.Unmarshal(b, &set)
		if err != nil || set.FullBytes[0] != 0x31 || len(set.Bytes) == 0 {
			return nil, false
		}
		b = rest
		for s := set.Bytes; len(s) > 0; {
			var atv, oid, val asn1.RawValue
			rest, err := asn1.Unmarshal(s, &atv)
			if err != nil || atv.FullBytes[0] != 0x30 {
				return nil, false
			}
			s = rest
			v, err := asn1.Unmarshal(atv.Bytes, &oid)
			if err != nil || oid.FullBytes[0] != 0x06 {
				return nil, false
			}
			if v, err = asn1.Unmarshal(v, &val); err != nil || len(v) > 0 || !nameStringTag(val.FullBytes[0]) {
				return nil, false
			}
			attrs = append(attrs, nameAttr{oid: oid.Bytes, value: val.Bytes, tag: val.FullBytes[0], merged: len(s) > 0})
		}
	}
	return attrs, true
}

// nameStringTag reports whether x509_get_attr_type_value takes a value
// with tag t.
func nameStringTag(t byte) bool {
	switch t {
	case tagBMPString, tagUTF8String, tagT61String, tagPrintableString, tagIA5String, tagUniversalString, tagBitString:
		return true
	}
	return false
}

// namesEqual is mbedTLS's x509_name_cmp over two DER names (a child's
// issuer and a candidate parent's subject, or a certificate's own two):
// the same number of attributes, in the same RDN structure (next_merged),
// each pair with the same OID and values equal by x509_string_cmp — the
// same tag and bytes, or both UTF8String or PrintableString (in any mix)
// of the same length and equal but for the case of ASCII letters
// (x509_memcasecmp). No other normalisation: no Unicode case folding, no
// space folding, no other string types compared across. A name mbedTLS
// cannot parse (parseX509Name) is equal to none: mbedTLS would have
// refused its certificate before comparing.
func namesEqual(a, b []byte) bool {
	if len(a) != len(b) {
		// Equal names have the same structure, OIDs and value lengths,
		// so DER encodings of the same length.
		return false
	}
	x, ok := parseX509Name(a)
	if !ok {
		return false
	}
	y, ok := parseX509Name(b)
	if !ok || len(x) != len(y) {
		return false
	}
	for i := range x {
		if !bytes.Equal(x[i].oid, y[i].oid) || !nameValuesEqual(x[i], y[i]) || x[i].merged != y[i].merged {
			return false
		}
	}
	return true
}

// nameValuesEqual is x509_string_cmp.
func nameValuesEqual(a, b nameAttr) bool {
	if a.tag == b.tag && bytes.Equal(a.value, b.value) {
		return true
	}
	caseless := func(t byte) bool { return t == tagUTF8String || t == tagPrintableString }
	return caseless(a.tag) && caseless(b.tag) && len(a.value) == len(b.value) && asciiFold(string(a.value), string(b.value))
}

// namesParse reports whether mbedtls_x509_crt_parse_der parses c's issuer
// and subject (parseX509Name): the issuer must hold an RDN
// (mbedtls_x509_get_name fails on an empty one), the subject may be empty
// (x509_crt_parse_der_core parses it only when it is not).
func namesParse(c *x509.Certificate) bool {
	issuer, ok := parseX509Name(c.RawIssuer)
	if !ok || len(issuer) == 0 {
		return false
	}
	_, ok = parseX509Name(c.RawSubject)
	return ok
}
