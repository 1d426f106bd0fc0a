package storage

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
)

// SecretBox seals small secrets (the SMTP password) for storage at rest with
// AES-256-GCM. The key is the SHA-256 of ENCRYPTION_KEY, so any sufficiently
// long passphrase yields a full-strength key.
type SecretBox struct {
	aead cipher.AEAD
}

// NewSecretBox derives the AES-256 key from key.
func NewSecretBox(key string) (*SecretBox, error) {
	if key == "" {
		return nil, errors.New("secret box: empty key")
	}
	sum := sha256.Sum256([]byte(key))
	block, err := aes.NewCipher(sum[:])
	if err != nil {
		return nil, fmt.Errorf("secret box: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("secret box: %w", err)
	}
	return &SecretBox{aead: aead}, nil
}

// Seal encrypts plaintext; the random nonce is prepended to the result.
func (b *SecretBox) Seal(plaintext []byte) ([]byte, error) {
	nonce := make([]byte, b.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("secret box nonce: %w", err)
	}
	return b.aead.Seal(nonce, nonce, plaintext, nil), nil
}

// Open decrypts what Seal produced.
func (b *SecretBox) Open(sealed []byte) ([]byte, error) {
	n := b.aead.NonceSize()
	if len(sealed) < n {
		return nil, errors.New("secret box: ciphertext too short")
	}
	out, err := b.aead.Open(nil, sealed[:n], sealed[n:], nil)
	if err != nil {
		return nil, fmt.Errorf("secret box: open: %w", err)
	}
	return out, nil
}
