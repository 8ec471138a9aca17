// Package signing is Django's django.core.signing and the parts of
// django.utils.crypto it rests on, byte for byte: salted HMAC, Signer and
// TimestampSigner, sign_object/unsign_object and dumps/loads (JSON, the
// zlib "." flag, URL-safe base64), base62 timestamps, and the signed-cookie
// scheme of set_signed_cookie/get_signed_cookie with its legacy and v2
// salts. What Django 1.11–6.1 write, it reads; what it writes, they read
// (spec §1–2 of django-formats.md). For the same value, key and time its
// tokens are the bytes Django writes, compressed ones included: package
// pyzlib writes the stream CPython's zlib.compress does.
//
// # Keys
//
// A key is SECRET_KEY as bytes (a Python str key is its UTF-8 encoding).
// Signers take the key and Options.FallbackKeys (SECRET_KEY_FALLBACKS): new
// values are signed with the key, and verification tries the key then each
// fallback in order, as Django 4.1+ does. Options.LegacySHA1 adds the
// Django 3.1–3.2 rule that also accepts SHA-1 signatures. Constructors
// derive the HMAC keys once; a signer keeps only the derived keys, is safe
// for concurrent use, and should be built once and reused.
//
// # Errors
//
// Rejected input returns an error wrapping ErrBadSignature (with
// ErrSignatureExpired for an expired timestamp, which also matches
// ErrBadSignature) or, when the signature verified but the payload does not
// decode, ErrBadPayload. A web request should treat either as "no value".
// Constructors fail only with ErrEmptyKey, ErrInvalidSeparator or
// ErrInvalidAlgorithm. No error text contains a key or a MAC.
//
// # Differences from Django
//
//   - Options fields use Go zero values for Django's defaults: an empty
//     Salt is the class default (as Signer(salt="") in Django), an empty
//     Sep is ":" (Django rejects sep=""), an empty Algorithm is "sha256".
//     Dumps and Loads default the salt to "django.core.signing"; Django's
//     dumps(salt="") means TimestampSignerSalt, so pass that explicitly.
//   - Max ages are time.Durations, and "no max age" is the method without
//     MaxAge in its name, not a nil.
//   - Decompression is bounded (Options.MaxDecompressedSize), Django's is
//     not.
//   - Empty fallback keys are refused; shake_128/shake_256, which Django
//     accepts as names but cannot use, are ErrInvalidAlgorithm.
//   - A CookieSigner reads the v2 salt even when it writes the legacy one,
//     so it accepts a superset of what Django before 5.2.15 accepts.
package signing
