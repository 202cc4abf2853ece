package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Store is the key-value store behind hostMemoryGet. Keys and values are bytes (a Go string
// holds any bytes): the contract is defined on bytes, not on UTF-8 text.
type Store map[string][]byte

// seedStore is the seed's store: hello and message.
func seedStore() Store {
	return Store{
		"hello":   []byte("👋 Hello World 🌍"),
		"message": []byte("I 💜 Extism 😍"),
	}
}

// Get is the value for key; a missing key gives an empty value, as in the seed's host.
func (s Store) Get(key []byte) []byte {
	return s[string(key)]
}

// parseStoreJSON reads a store file: one JSON object of string keys to string values.
func parseStoreJSON(data []byte) (Store, error) {
	// Decoding into a map would take null for an empty store; a store file is an object.
	if trimmed := bytes.TrimSpace(data); len(trimmed) == 0 || trimmed[0] != '{' {
		return nil, errors.New("not a JSON object of string keys to string values")
	}
	// Pointers, so that a null value is refused rather than read as "".
	var entries map[string]*string
	decoder := json.NewDecoder(bytes.NewReader(data))
	if err := decoder.Decode(&entries); err != nil {
		return nil, fmt.Errorf("not a JSON object of string keys to string values: %w", err)
	}
	if _, err := decoder.Token(); err != io.EOF {
		return nil, errors.New("not a JSON object of string keys to string values: more after the object")
	}
	store := make(Store, len(entries))
	for key, value := range entries {
		if value == nil {
			return nil, fmt.Errorf("not a JSON object of string keys to string values: %q is null", key)
		}
		store[key] = []byte(*value)
	}
	return store, nil
}

// parseSet reads a --set argument, KEY=VALUE, split at the first '=' (so a value may hold
// '='; the key may be empty, the store's empty key being a key like any other).
func parseSet(arg string) (key, value string, err error) {
	key, value, found := strings.Cut(arg, "=")
	if !found {
		return "", "", fmt.Errorf("--set %q: expected KEY=VALUE", arg)
	}
	return key, value, nil
}
