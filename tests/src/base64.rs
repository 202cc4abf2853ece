//! Standard base64 (RFC 4648, `+` and `/`, `=` padding): how case files write binary input, and
//! how the Go host's protocol carries bytes (Go's `encoding/json` writes `[]byte` this way).

use anyhow::bail;

const SYMBOLS: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

pub fn encode(bytes: &[u8]) -> String {
    let mut text = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let mut group = [0u8; 3];
        group[..chunk.len()].copy_from_slice(chunk);
        let bits = u32::from_be_bytes([0, group[0], group[1], group[2]]);
        for index in 0..4 {
            if index <= chunk.len() {
                let symbol = (bits >> (18 - 6 * index)) & 0x3f;
                text.push(char::from(SYMBOLS[symbol as usize]));
            } else {
                text.push('=');
            }
        }
    }
    text
}

/// Whitespace is ignored; padding is required when the length calls for it.
pub fn decode(text: &str) -> anyhow::Result<Vec<u8>> {
    let symbols: Vec<u8> = text.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    if !symbols.len().is_multiple_of(4) {
        bail!("length {} is not a multiple of 4", symbols.len());
    }
    let mut bytes = Vec::with_capacity(symbols.len() / 4 * 3);
    for (index, quad) in symbols.chunks(4).enumerate() {
        let last = index + 1 == symbols.len() / 4;
        let padding = quad
            .iter()
            .rev()
            .take_while(|&&symbol| symbol == b'=')
            .count();
        if padding > 2 || (padding > 0 && !last) {
            bail!("misplaced `=` padding");
        }
        let mut bits = 0u32;
        for &symbol in &quad[..4 - padding] {
            let value = match SYMBOLS.iter().position(|&known| known == symbol) {
                Some(value) => value as u32,
                None => bail!("`{}` is not a base64 symbol", symbol as char),
            };
            bits = bits << 6 | value;
        }
        bits <<= 6 * padding;
        let decoded = bits.to_be_bytes();
        bytes.extend_from_slice(&decoded[1..4 - padding]);
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_with_and_without_padding() {
        assert_eq!(decode("").unwrap(), b"");
        assert_eq!(decode("Zg==").unwrap(), b"f");
        assert_eq!(decode("Zm8=").unwrap(), b"fo");
        assert_eq!(decode("Zm9v").unwrap(), b"foo");
        assert_eq!(decode("/wD+").unwrap(), [0xff, 0x00, 0xfe]);
        assert!(decode("Zm9").is_err());
        assert!(decode("Zg==Zm9v").is_err());
        assert!(decode("Zm9*").is_err());
    }

    #[test]
    fn encoding_round_trips_every_length_and_byte() {
        assert_eq!(encode(b"f"), "Zg==");
        assert_eq!(encode(b"fo"), "Zm8=");
        assert_eq!(encode(b"foo"), "Zm9v");
        let bytes: Vec<u8> = (0..=255).collect();
        for length in 0..=bytes.len() {
            let encoded = encode(&bytes[..length]);
            assert_eq!(decode(&encoded).unwrap(), &bytes[..length], "{length}");
        }
    }
}
