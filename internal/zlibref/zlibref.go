package zlibref

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"io"
)

// ErrLimit is Gunzip's error for output beyond its limit.
var ErrLimit = errors.New("zlibref: reference output limit")

// Gunzip decodes src by Godot's rules (zlib's inflate with the gzip
// wrapper, stream_peer_gzip.cpp) with the port's §7 changes: header strings
// (FNAME, FCOMMENT) of any length, FEXTRA skipped, FHCRC checked, reserved
// flag bits refused ("unknown header flags set"), CRC-32 and ISIZE checked;
// a second member decodes too and anything else after a member is an error
// (§7 D1, COMPAT Q1); a stream cut short is an error (§7 D3, COMPAT Q2).
// Output beyond limit bytes is ErrLimit. longest is the length of the
// longest FNAME or FCOMMENT field (NUL included) of the members read.
func Gunzip(src []byte, limit int) (out []byte, longest int, err error) {
	var b bytes.Buffer
	r := bytes.NewReader(src) // a ByteReader: flate reads no byte beyond the stream
	for {
		l, err := readHeader(r)
		longest = max(longest, l)
		if err != nil {
			return nil, longest, err
		}
		h := crc32.NewIEEE()
		start := b.Len()
		n, err := io.Copy(io.MultiWriter(&b, h), io.LimitReader(flate.NewReader(r), int64(limit+1-start)))
		if err != nil {
			return nil, longest, err
		}
		if b.Len() > limit {
			return nil, longest, ErrLimit
		}
		var tr [8]byte
		if _, err := io.ReadFull(r, tr[:]); err != nil {
			return nil, longest, io.ErrUnexpectedEOF
		}
		if binary.LittleEndian.Uint32(tr[:4]) != h.Sum32() || binary.LittleEndian.Uint32(tr[4:]) != uint32(n) {
			return nil, longest, errors.New("zlibref: gzip trailer mismatch")
		}
		if r.Len() == 0 {
			return b.Bytes(), longest, nil
		}
	}
}

// readHeader reads one RFC 1952 member header as zlib's inflate does and
// returns the length of its longest FNAME/FCOMMENT field (NUL included).
func readHeader(r *bytes.Reader) (longest int, err error) {
	h := crc32.NewIEEE()
	var fixed [10]byte
	if _, err := io.ReadFull(r, fixed[:]); err != nil {
		return longest, io.ErrUnexpectedEOF
	}
	h.Write(fixed[:])
	if fixed[0] != 0x1f || fixed[1] != 0x8b {
		return longest, errors.New("zlibref: incorrect header check")
	}
	if fixed[2] != 8 {
		return longest, errors.New("zlibref: unknown compression method")
	}
	flg := fixed[3]
	if flg&0xe0 != 0 {
		return longest, errors.New("zlibref: unknown header flags set")
	}
	if flg&0x04 != 0 { // FEXTRA
		var xl [2]byte
		if _, err := io.ReadFull(r, xl[:]); err != nil {
			return longest, io.ErrUnexpectedEOF
		}
		h.Write(xl[:])
		extra := make([]byte, binary.LittleEndian.Uint16(xl[:]))
		if _, err := io.ReadFull(r, extra); err != nil {
			return longest, io.ErrUnexpectedEOF
		}
		h.Write(extra)
	}
	for _, bit := range []byte{0x08, 0x10} { // FNAME, FCOMMENT: zero-terminated, any length
		if flg&bit == 0 {
			continue
		}
		for n := 1; ; n++ {
			b, err := r.ReadByte()
			if err != nil {
				return longest, io.ErrUnexpectedEOF
			}
			h.Write([]byte{b})
			if b == 0 {
				longest = max(longest, n)
				break
			}
		}
	}
	if flg&0x02 != 0 { // FHCRC
		var hc [2]byte
		if _, err := io.ReadFull(r, hc[:]); err != nil {
			return longest, io.ErrUnexpectedEOF
		}
		if binary.LittleEndian.Uint16(hc[:]) != uint16(h.Sum32()) {
			return longest, errors.New("zlibref: header crc mismatch")
		}
	}
	return longest, nil
}

// Member builds one gzip member by hand (RFC 1952) so that fields
// compress/gzip never writes can be set: the flag byte flg (reserved bits
// too), a FNAME of any length (none when empty) and FHCRC.
func Member(flg byte, name string, data []byte, hcrc bool) []byte {
	var w bytes.Buffer
	gw := gzip.NewWriter(&w)
	_, _ = gw.Write(data) // a bytes.Buffer takes everything
	_ = gw.Close()
	std := w.Bytes()
	deflated := std[10 : len(std)-8] // compress/gzip writes a 10-byte header without options
	head := []byte{0x1f, 0x8b, 8, flg, 0, 0, 0, 0, 0, 0xff}
	if name != "" {
		head[3] |= 0x08
		head = append(append(head, name...), 0)
	}
	if hcrc {
		head[3] |= 0x02
		head = binary.LittleEndian.AppendUint16(head, uint16(crc32.ChecksumIEEE(head)))
	}
	out := append(head, deflated...)
	return append(out, std[len(std)-8:]...)
}
