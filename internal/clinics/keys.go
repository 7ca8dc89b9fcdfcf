package clinics

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// Keyring seals access tokens with AES-256-GCM. The first key seals; every
// key opens, so keys can be rotated: put the new key first, keep the old ones
// until `portal clinic rotate-keys` has re-sealed every token, then drop them.
type Keyring struct {
	keys []tokenKey // keys[0] seals
}

type tokenKey struct {
	id   string // first 8 hex characters of the key's SHA-256
	aead cipher.AEAD
}

// Errors from Keyring.Open.
var (
	// ErrUnknownKey means the token was sealed with a key the ring lacks.
	ErrUnknownKey = errors.New("the access token was sealed with a key that PORTAL_TOKEN_KEYS does not hold")
	// ErrCannotOpen means the sealed token is damaged, belongs to another
	// clinic, or the key with its id is not the key that sealed it.
	ErrCannotOpen = errors.New("the access token cannot be decrypted with the configured key")
)

// sealedPrefix versions the format: "v1:<key id>:<base64url(nonce|ciphertext)>".
const sealedPrefix = "v1"

// ParseKeyring reads a comma-separated list of 32-byte keys, each hex or
// base64 (for example from `openssl rand -hex 32`). Errors name the key by
// position, never by value.
func ParseKeyring(list string) (*Keyring, error) {
	var ring Keyring
	seen := map[string]bool{}
	for i, s := range strings.Split(list, ",") {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		raw, err := decode32(s)
		if err != nil {
			return nil, fmt.Errorf("key %d %w", i+1, err)
		}
		sum := sha256.Sum256(raw)
		id := hex.EncodeToString(sum[:4])
		if seen[id] {
			return nil, fmt.Errorf("key %d is listed twice", i+1)
		}
		seen[id] = true
		block, err := aes.NewCipher(raw)
		if err != nil {
			return nil, fmt.Errorf("key %d: %w", i+1, err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("key %d: %w", i+1, err)
		}
		ring.keys = append(ring.keys, tokenKey{id: id, aead: aead})
	}
	if len(ring.keys) == 0 {
		return nil, errors.New("holds no key: expected one or more 32-byte keys as hex or base64, separated by commas (for example: openssl rand -hex 32)")
	}
	return &ring, nil
}

func decode32(s string) ([]byte, error) {
	for _, dec := range []func(string) ([]byte, error){hex.DecodeString, base64.StdEncoding.DecodeString, base64.RawStdEncoding.DecodeString, base64.URLEncoding.DecodeString, base64.RawURLEncoding.DecodeString} {
		if k, err := dec(s); err == nil {
			if len(k) != 32 {
				return nil, fmt.Errorf("decodes to %d bytes: expected exactly 32", len(k))
			}
			return k, nil
		}
	}
	return nil, errors.New("is neither hex nor base64: expected 32 random bytes as hex or base64")
}

// SealingKeyID is the id of the key that seals: the first one.
func (r *Keyring) SealingKeyID() string { return r.keys[0].id }

// Seal encrypts a clinic's access token with the first key. The slug is
// bound in as associated data, so a sealed token copied onto another
// clinic's row does not open.
func (r *Keyring) Seal(slug, token string) (string, error) {
	sealed, err := r.SealData(associatedData(slug), []byte(token))
	if err != nil {
		return "", fmt.Errorf("seal access token: %w", err)
	}
	return sealed, nil
}

// Open decrypts a token Seal made for this slug with any key of the ring.
func (r *Keyring) Open(slug, sealed string) (string, error) {
	plain, err := r.OpenData(associatedData(slug), sealed)
	return string(plain), err
}

// SealData encrypts plain with the first key, in the access tokens' format
// ("v1:<key id>:<base64url(nonce|ciphertext)>"), binding ad to it: what
// is sealed opens only with the same associated data, so a value copied
// onto another row, or used for another purpose, does not open. Callers
// other than the access tokens put their own purpose in ad.
func (r *Keyring) SealData(ad, plain []byte) (string, error) {
	k := r.keys[0]
	nonce := make([]byte, k.aead.NonceSize(), k.aead.NonceSize()+len(plain)+k.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return "", err
	}
	out := k.aead.Seal(nonce, nonce, plain, ad)
	return sealedPrefix + ":" + k.id + ":" + base64.RawURLEncoding.EncodeToString(out), nil
}

// OpenData decrypts what SealData sealed with ad, with any key of the ring.
func (r *Keyring) OpenData(ad []byte, sealed string) ([]byte, error) {
	id, err := SealedKeyID(sealed)
	if err != nil {
		return nil, err
	}
	_, body, _ := strings.Cut(strings.TrimPrefix(sealed, sealedPrefix+":"), ":")
	for _, k := range r.keys {
		if k.id != id {
			continue
		}
		raw, err := base64.RawURLEncoding.DecodeString(body)
		if err != nil || len(raw) < k.aead.NonceSize()+k.aead.Overhead() {
			return nil, ErrCannotOpen
		}
		n := k.aead.NonceSize()
		plain, err := k.aead.Open(nil, raw[:n], raw[n:], ad)
		if err != nil {
			return nil, ErrCannotOpen
		}
		return plain, nil
	}
	return nil, fmt.Errorf("%w (key id %s)", ErrUnknownKey, id)
}

// SealedKeyID names the key a sealed token was sealed with.
func SealedKeyID(sealed string) (string, error) {
	parts := strings.SplitN(sealed, ":", 3)
	if len(parts) != 3 || parts[0] != sealedPrefix || len(parts[1]) != 8 {
		return "", ErrCannotOpen
	}
	return parts[1], nil
}

func associatedData(slug string) []byte { return []byte("coreplus-access-token:" + slug) }
