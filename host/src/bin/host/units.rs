//! Parsers for the values of `--timeout` and `--memory-max`.

use std::time::Duration;

/// WebAssembly's page size.
const PAGE: u64 = 64 * 1024;

/// `500ms`, `2s`, `1.5s` or `1m`; a unit is required, so `500` is never a guess.
pub fn duration(text: &str) -> Result<Duration, String> {
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .ok_or_else(|| format!("`{text}` has no unit: write it as 500ms, 2s or 1m"))?;
    let (number, unit) = text.split_at(split);
    let number: f64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a duration such as 500ms, 2s or 1m"))?;
    let seconds = match unit {
        "ms" => number / 1000.0,
        "s" => number,
        "m" => number * 60.0,
        _ => return Err(format!("`{text}`: unknown unit `{unit}`; use ms, s or m")),
    };
    let duration =
        Duration::try_from_secs_f64(seconds).map_err(|_| format!("`{text}` is out of range"))?;
    if duration.is_zero() {
        return Err(format!("`{text}` must be longer than 0"));
    }
    Ok(duration)
}

/// A number of 64 KiB pages (`48`), or a size in KiB, MiB or GiB (`3MiB`), rounded up to pages.
pub fn memory_pages(text: &str) -> Result<u32, String> {
    let (number, unit) = number_and_unit(text)
        .ok_or_else(|| format!("`{text}` is not a page count (48) or a size (3MiB)"))?;
    let bytes_per_unit = match unit {
        "" => PAGE,
        _ => unit_bytes(unit)
            .ok_or_else(|| format!("`{text}`: unknown unit `{unit}`; use KiB, MiB or GiB"))?,
    };
    let pages = number
        .checked_mul(bytes_per_unit)
        .map(|bytes| bytes.div_ceil(PAGE))
        .and_then(|pages| u32::try_from(pages).ok())
        // 65,536 pages is all a 32-bit memory can address.
        .filter(|&pages| pages <= 65_536)
        .ok_or_else(|| format!("`{text}` is more than the 4 GiB a 32-bit memory can hold"))?;
    if pages == 0 {
        return Err(format!("`{text}` must be more than 0"));
    }
    Ok(pages)
}

/// A byte count: `100`, or a size in KiB, MiB or GiB (`4KiB`).
pub fn bytes(text: &str) -> Result<u64, String> {
    let (number, unit) = number_and_unit(text)
        .ok_or_else(|| format!("`{text}` is not a byte count (100) or a size (4KiB)"))?;
    let scale = unit_bytes(unit).ok_or_else(|| {
        format!("`{text}`: unknown unit `{unit}`; use no unit (bytes), KiB, MiB or GiB")
    })?;
    number
        .checked_mul(scale)
        .ok_or_else(|| format!("`{text}` is too large"))
}

/// The leading decimal number of `text` and the unit after it.
fn number_and_unit(text: &str) -> Option<(u64, &str)> {
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    Some((number.parse().ok()?, unit))
}

fn unit_bytes(unit: &str) -> Option<u64> {
    match unit {
        "" => Some(1),
        "KiB" => Some(1 << 10),
        "MiB" => Some(1 << 20),
        "GiB" => Some(1 << 30),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_need_a_unit() {
        assert_eq!(duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(duration("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(duration("2m"), Ok(Duration::from_secs(120)));
        assert!(duration("500").unwrap_err().contains("has no unit"));
        assert!(duration("5h").unwrap_err().contains("unknown unit `h`"));
        assert!(duration("0s").unwrap_err().contains("longer than 0"));
        assert!(duration("ms").unwrap_err().contains("not a duration"));
    }

    #[test]
    fn byte_counts_take_binary_units() {
        assert_eq!(bytes("100"), Ok(100));
        assert_eq!(bytes("4KiB"), Ok(4096));
        assert_eq!(bytes("1MiB"), Ok(1 << 20));
        assert!(bytes("1MB").unwrap_err().contains("unknown unit `MB`"));
        assert!(bytes("x").unwrap_err().contains("not a byte count"));
        assert!(bytes("99999999999GiB").unwrap_err().contains("too large"));
    }

    #[test]
    fn memory_is_pages_or_a_size() {
        assert_eq!(memory_pages("48"), Ok(48));
        assert_eq!(memory_pages("3MiB"), Ok(48));
        assert_eq!(memory_pages("1KiB"), Ok(1));
        assert_eq!(memory_pages("4GiB"), Ok(65_536));
        assert!(memory_pages("5GiB").unwrap_err().contains("4 GiB"));
        assert!(memory_pages("0").unwrap_err().contains("more than 0"));
        assert!(memory_pages("3MB")
            .unwrap_err()
            .contains("unknown unit `MB`"));
        assert!(memory_pages("-1").unwrap_err().contains("not a page count"));
    }
}
