package testserver

import (
	"encoding/asn1"
	"testing"
)

// The ASN.1 string tags a test names its attribute values with.
const (
	TagUTF8String      = asn1.TagUTF8String
	TagPrintableString = asn1.TagPrintableString
	TagIA5String       = asn1.TagIA5String
	TagNumericString   = asn1.TagNumericString
)

// Attr is one attribute of a distinguished name, its value encoded with
// the string tag Tag as given (no check that the bytes fit the type).
type Attr struct {
	Type  asn1.ObjectIdentifier
	Tag   int
	Value string
}

// OIDCommonName and OIDOrganization are the commonName and
// organizationName attribute types.
var (
	OIDCommonName   = asn1.ObjectIdentifier{2, 5, 4, 3}
	OIDOrganization = asn1.ObjectIdentifier{2, 5, 4, 10}
)

// CN is a commonName attribute with value v encoded with tag.
func CN(tag int, v string) Attr { return Attr{OIDCommonName, tag, v} }

// RawName encodes a Name (RDNSequence) in DER, one RDN (a SET) per
// argument, its attributes in the order given (not sorted as DER's SET OF
// would be): what a certificate template's RawSubject takes, to name a
// certificate with exact string types and bytes.
func RawName(t testing.TB, rdns ...[]Attr) []byte {
	t.Helper()
	var seq []byte
	for _, rdn := range rdns {
		var set []byte
		for _, a := range rdn {
			atv, err := asn1.Marshal(struct {
				Type  asn1.ObjectIdentifier
				Value asn1.RawValue
			}{a.Type, asn1.RawValue{Tag: a.Tag, Bytes: []byte(a.Value)}})
			if err != nil {
				t.Fatalf("testserver: name attribute: %v", err)
			}
			set = append(set, atv...)
		}
		der, err := asn1.Marshal(asn1.RawValue{Tag: asn1.TagSet, IsCompound: true, Bytes: set})
		if err != nil {
			t.Fatalf("testserver: name RDN: %v", err)
		}
		seq = append(seq, der...)
	}
	der, err := asn1.Marshal(asn1.RawValue{Tag: asn1.TagSequence, IsCompound: true, Bytes: seq})
	if err != nil {
		t.Fatalf("testserver: name: %v", err)
	}
	return der
}
