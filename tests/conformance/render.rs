//! How a call's output is written into a snapshot.

use sha2::{Digest, Sha256};

/// Longest output shown whole; longer or non-UTF-8 output is shown by its ends.
const SHOWN_WHOLE: usize = 4096;
const SHOWN_ENDS: usize = 64;

/// The length and SHA-256 of `output` come first: insta trims and normalises line endings when
/// it compares text, so the header is what makes the snapshot byte-exact.
pub fn output(output: &[u8]) -> String {
    let digest: String = Sha256::digest(output)
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect();
    let header = format!("{} bytes, sha256 {digest}", output.len());
    match std::str::from_utf8(output) {
        Ok(text) if output.len() <= SHOWN_WHOLE => format!("{header}\n{text}"),
        _ => {
            let head = &output[..output.len().min(SHOWN_ENDS)];
            let tail = &output[output.len().saturating_sub(SHOWN_ENDS)..];
            format!(
                "{header}\nfirst {} bytes: {:?}\nlast {} bytes: {:?}",
                head.len(),
                String::from_utf8_lossy(head),
                tail.len(),
                String::from_utf8_lossy(tail),
            )
        }
    }
}
