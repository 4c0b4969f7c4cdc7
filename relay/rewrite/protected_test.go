package rewrite

import (
	"bytes"
	"encoding/base64"
	"strings"
	"testing"
)

// Real protection parts, made with gpg and openssl (their signatures are
// over other texts: only their form is checked).
const realPGPSignature = "-----BEGIN PGP SIGNATURE-----\r\n" +
	"\r\n" +
	"iHUEABYIAB0WIQRS/C2twjmmp2zGjgTa19cYzZJ0DAUCaxFuRwAKCRDa19cYzZJ0\r\n" +
	"DN+pAQDeI/+0xMm1W/x17/bhtR7/g+8TreqfwJi7E2rq+4bW6AD/dsFmv8n8kxDk\r\n" +
	"+cfVs8TNJSDD4FJpGHSXQkiXm0MUxwI=\r\n" +
	"=m5sw\r\n" +
	"-----END PGP SIGNATURE-----\r\n"
const realPGPMessage = "-----BEGIN PGP MESSAGE-----\r\n" +
	"\r\n" +
	"hF4DSflurP5sglsSAQdAS/g4mMEaQPCLlAh5iMBWW4lGtQWKsUDWnQivmGExgiQw\r\n" +
	"E26XmCxyB89SrJZpUUL654sqchRMMNd/0Gwuz+qu94Mv2AtLycvZGUho1bq3JfpI\r\n" +
	"0l8Bm7hkbUKacQRQWXVoGISkF9QrMejLn/roTVg14zDJm/zYroRPHagzu5QRAAo3\r\n" +
	"l79tUfJBlp06duyqzcfSSfAL1m8aazWH3YyNZ5CrIhSfNWn+YLCfn9bvErxsS9vS\r\n" +
	"Rg==\r\n" +
	"=qxca\r\n" +
	"-----END PGP MESSAGE-----\r\n"
const realSMIMESignature = "MIIFrgYJKoZIhvcNAQcCoIIFnzCCBZsCAQExDzANBglghkgBZQMEAgEFADALBgkqhkiG9w0BBwGg\r\n" +
	"ggMnMIIDIzCCAgugAwIBAgIUbWwacPj4R9yIIf8Ugd5mMPJGu4gwDQYJKoZIhvcNAQELBQAwITEf\r\n" +
	"MB0GA1UEAwwWZXZhLm5vdmFrQGFjbWUuZXhhbXBsZTAeFw0yNjEyMDMxMzI3MzZaFw0zNjExMzAx\r\n" +
	"MzI3MzZaMCExHzAdBgNVBAMMFmV2YS5ub3Zha0BhY21lLmV4YW1wbGUwggEiMA0GCSqGSIb3DQEB\r\n" +
	"AQUAA4IBDwAwggEKAoIBAQCxJbu9QLtv4mOFxx7NPIBuDKZukuws1jDmEEjQ7ZFiIUHsta8Ewuk0\r\n" +
	"BPdLY2Jh4zn5IblzHSKZCovkOA29bu0KSRmpZVQDJT+/5m6pFz6BbtwU4RbLdW0dQuW+4sJBJOmD\r\n" +
	"KXi6Kp3TZcfl3JkjqKjaTivE/6lZnyqkNpYdoFkOQypiHDeIl9/tNnHbTZNsJqd8MpKQLACgprPd\r\n" +
	"FjhQBmNZr1MSDT6eMSWoBRLNi6lza2t4/EE8P31GbTSHdrrZ9WT5Vb04U7+1HsP72WwsGRzP/fQN\r\n" +
	"DL8O5BQDjVsajmeXqtnxXit+R4rbcp1SuV0m4bWrBpqrsMr/k/5fBd1D+LjLAgMBAAGjUzBRMB0G\r\n" +
	"A1UdDgQWBBS9Pv4NIaIhQtXMLhANXvpA/9D0szAfBgNVHSMEGDAWgBS9Pv4NIaIhQtXMLhANXvpA\r\n" +
	"/9D0szAPBgNVHRMBAf8EBTADAQH/MA0GCSqGSIb3DQEBCwUAA4IBAQAF4zZwV16jFnAvnFUaxFev\r\n" +
	"Fg6dzTxUsddTcXf1gYeXI9Kq4PxrlUrC8LWWWYNuX8w344XJMtTOeP7Vu5RaWaSpxyfW/Arr7hid\r\n" +
	"2K2QP1h+yBAyNkoZns/i6++K5gidXOXAO1ioFdAkfRSHxApIiEeZAJSoi/htrAGnyYnXqeiXZt8P\r\n" +
	"llQTZINbstuOPcDoumWsbWW4DgaAkwzCmS+1ZjmOloL53RPVHS2OHFxgBQWuW/UN8hJ0CftJDaiL\r\n" +
	"RcHXakETJ/d3/tQVU7jQX8MDnPaC+z7/VZDZf2FzuMumoviZS/EG+/BItr/i4OiTjF4R5XalkYwg\r\n" +
	"SEvR2lSYvepUy3VUMYICSzCCAkcCAQEwOTAhMR8wHQYDVQQDDBZldmEubm92YWtAYWNtZS5leGFt\r\n" +
	"cGxlAhRtbBpw+PhH3Igh/xSB3mYw8ka7iDANBglghkgBZQMEAgEFAKCB5DAYBgkqhkiG9w0BCQMx\r\n" +
	"CwYJKoZIhvcNAQcBMBwGCSqGSIb3DQEJBTEPFw0yNjEyMDMxMzI3MzZaMC8GCSqGSIb3DQEJBDEi\r\n" +
	"BCBlzvc+0nhTNr/u6599Tkh0fxF+ga8m73QJ7qV2BU2+vDB5BgkqhkiG9w0BCQ8xbDBqMAsGCWCG\r\n" +
	"SAFlAwQBKjALBglghkgBZQMEARYwCwYJYIZIAWUDBAECMAoGCCqGSIb3DQMHMA4GCCqGSIb3DQMC\r\n" +
	"AgIAgDANBggqhkiG9w0DAgIBQDAHBgUrDgMCBzANBggqhkiG9w0DAgIBKDANBgkqhkiG9w0BAQEF\r\n" +
	"AASCAQBV+/sZ+vxKLXpRm3rIXZQLu5BB07boWy3cyCAqTc1yQ7UbJOtPNpKlwsB1Hso+AGkEHeZQ\r\n" +
	"12AIuSgpRKm6s56/Fv+vrKXsaT8zL4xZRHU6mfBKK8naFWXbjArwgmtDF8vMVR0BT93pMe6NLmxa\r\n" +
	"1u3OII7YeksDqcIJn8BCLuf8ClbKRlgLYkSSRDL89lcAczZ2N5FQC1Qzz3/4799jKLWmQ+07QQlB\r\n" +
	"flZlXuYhb53rsmsZcuHf+VpwKMmK7Ewh3EOzL3zYlOR1eEuqFMsFqQRTXR9q+BbCHPkKGJzZ8rui\r\n" +
	"2WFv4jnEkh4GkYgZ2mEXh//jYM5PSUDa3p3D/n9bHC4C\r\n"
const realSMIMEEnveloped = "MIIBzQYJKoZIhvcNAQcDoIIBvjCCAboCAQAxggFVMIIBUQIBADA5MCExHzAdBgNVBAMMFmV2YS5u\r\n" +
	"b3Zha0BhY21lLmV4YW1wbGUCFG1sGnD4+EfciCH/FIHeZjDyRruIMA0GCSqGSIb3DQEBAQUABIIB\r\n" +
	"AEA0PA6iLEFQCqMxEqbUl7hrupi32ELFelxzOw13XtCJbj0fvctVZ1nh0eVc6WtArCTl3yxvzdL1\r\n" +
	"mR/nLtRgJA8ap9zvQqXwUn5Pa8NtcN/aK6NFm2rJas4pVVnTB7vqQdaOufE029wLdj5AOX3igaiv\r\n" +
	"KXCuw42nkLnGXoC/QZtfUuW2xWLXreCMy9Q7XsLKY84pvkwswkXoVTDrO7UOZaLYAAaSy+Zr1j23\r\n" +
	"DKUcK12r5f+FJvad7r4ZOQw1XtwllBXO4STUrnDSbfInNByH8KrtNf/+cHzUsgXOQyrvL/IE+X2L\r\n" +
	"wFZRNjt/uRF1h47I+n2w4IuoeFk8hcSiAdMXvMcwXAYJKoZIhvcNAQcBMB0GCWCGSAFlAwQBKgQQ\r\n" +
	"2tF2bRoHsLu4kgguDnOBmYAwSdbhzvkyIzEB22+zPbS12tnneFLQT+4gLSuOA0ihjNZSWfCcpTk8\r\n" +
	"X/75Mu/zLMAd\r\n"

func signedMessage(proto, sigType, cte, sig string) []byte {
	return []byte("From: rep@acme.example\r\nTo: jean@acme.fr\r\nSubject: s\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/signed; micalg=sha-256; protocol=\"" + proto + "\"; boundary=\"sb\"\r\n\r\n" +
		"--sb\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nSigned text\r\n" +
		"--sb\r\nContent-Type: " + sigType + "\r\nContent-Transfer-Encoding: " + cte + "\r\n\r\n" + sig + "\r\n--sb--\r\n")
}

func encryptedMessage(control, armour string) []byte {
	return []byte("From: rep@acme.example\r\nTo: jean@acme.fr\r\nSubject: e\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/encrypted; protocol=\"application/pgp-encrypted\"; boundary=\"eb\"\r\n\r\n" +
		"--eb\r\nContent-Type: application/pgp-encrypted\r\n\r\n" + control + "\r\n" +
		"--eb\r\nContent-Type: application/octet-stream\r\n\r\n" + armour + "\r\n--eb--\r\n")
}

func opaqueMessage(b64 string) []byte {
	return []byte("From: rep@acme.example\r\nTo: jean@acme.fr\r\nSubject: o\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: application/pkcs7-mime; smime-type=enveloped-data; name=smime.p7m\r\n" +
		"Content-Transfer-Encoding: base64\r\n\r\n" + b64)
}

// b64 encodes DER in base64 lines.
func b64(der []byte) string { return string(appendBase64(nil, der)) }

// indefiniteSignedData is a BER ContentInfo with indefinite lengths, as
// streaming S/MIME signers write it.
var indefiniteSignedData = []byte{0x30, 0x80, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02,
	0xa0, 0x80, 0x30, 0x80, 0x02, 0x01, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00}

// A message labelled signed or encrypted keeps its body only when its
// protection part parses as one; with junk there, it is footed like any
// message, so a fake label cannot strip the notice.
func TestOnlyRealProtectionKeepsTheBody(t *testing.T) {
	junkArmour := "-----BEGIN PGP SIGNATURE-----\r\n\r\nAAAA\r\n-----END PGP SIGNATURE-----"
	badCRC := strings.Replace(realPGPSignature, "=m5sw", "=m5sx", 1)
	pgp, smime := "application/pgp-signature", "application/pkcs7-signature"
	enveloped, _ := base64.StdEncoding.DecodeString(strings.ReplaceAll(realSMIMEEnveloped, "\r\n", ""))
	cases := []struct {
		name   string
		msg    []byte
		signed bool
	}{
		{"pgp signature", signedMessage(pgp, pgp, "7bit", realPGPSignature), true},
		{"s/mime signature", signedMessage(smime, smime, "base64", realSMIMESignature), true},
		{"x-pkcs7 signature", signedMessage("application/x-pkcs7-signature", "application/x-pkcs7-signature", "base64", realSMIMESignature), true},
		{"s/mime BER signature", signedMessage(smime, smime, "base64", b64(indefiniteSignedData)), true},
		{"pgp encrypted", encryptedMessage("Version: 1", realPGPMessage), true},
		{"s/mime enveloped", opaqueMessage(realSMIMEEnveloped), true},
		{"junk pgp armour", signedMessage(pgp, pgp, "7bit", junkArmour), false},
		{"pgp bad checksum", signedMessage(pgp, pgp, "7bit", badCRC), false},
		{"pgp no armour", signedMessage(pgp, pgp, "7bit", "not a signature"), false},
		{"pgp message as signature", signedMessage(pgp, pgp, "7bit", strings.ReplaceAll(realPGPMessage, "MESSAGE", "SIGNATURE")), false},
		{"protocol mismatch", signedMessage(smime, pgp, "7bit", realPGPSignature), false},
		{"s/mime junk", signedMessage(smime, smime, "base64", b64([]byte("junk junk junk"))), false},
		{"s/mime enveloped as signature", signedMessage(smime, smime, "base64", realSMIMEEnveloped), false},
		{"s/mime truncated", signedMessage(smime, smime, "base64", b64(enveloped[:40])), false},
		{"pgp encrypted junk", encryptedMessage("Version: 1", junkArmour), false},
		{"pgp encrypted no control", encryptedMessage("hello", realPGPMessage), false},
		{"opaque junk", opaqueMessage(b64(bytes.Repeat([]byte{0x30}, 64))), false},
	}
	for _, c := range cases {
		m, err := Parse(c.msg, Options{Rand: fixedRand()})
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if m.Signed() != c.signed {
			t.Errorf("%s: Signed() = %v, want %v", c.name, m.Signed(), c.signed)
		}
		var out bytes.Buffer
		if err := m.Render(&out, footerEN, testSet); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		footed := bytes.Contains(out.Bytes(), []byte("Privacy notice"))
		if footed == c.signed {
			t.Errorf("%s: footed = %v, want %v:\n%s", c.name, footed, !c.signed, out.Bytes())
		}
		if !bytes.Contains(out.Bytes(), []byte("List-Unsubscribe: ")) {
			t.Errorf("%s: no List-Unsubscribe", c.name)
		}
	}
}
