//! [`Uuid`] ↔ its canonical text, `f81d4fae-7dec-11d0-a765-00a0c91e6bf6`.

use std::fmt;

use crate::Uuid;

impl Uuid {
    /// Reads the canonical 8-4-4-4-12 hexadecimal form (either case).
    pub fn parse(text: &str) -> Result<Uuid, String> {
        let bytes = text.as_bytes();
        if bytes.len() != 36 {
            return Err(format!(
                "expected 36 characters in the form 8-4-4-4-12, found {}",
                text.chars().count()
            ));
        }
        let mut number: u128 = 0;
        for (index, &byte) in bytes.iter().enumerate() {
            if matches!(index, 8 | 13 | 18 | 23) {
                if byte != b'-' {
                    return Err(format!("expected '-' at character {}", index + 1));
                }
                continue;
            }
            let digit = match byte {
                b'0'..=b'9' => byte - b'0',
                b'a'..=b'f' => byte - b'a' + 10,
                b'A'..=b'F' => byte - b'A' + 10,
                _ => {
                    return Err(format!(
                        "expected a hexadecimal digit at character {}",
                        index + 1
                    ))
                }
            };
            number = number << 4 | u128::from(digit);
        }
        Ok(Uuid(number))
    }
}

/// Prints the canonical lowercase form, without the `#uuid` tag.
impl fmt::Display for Uuid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.0;
        write!(
            f,
            "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
            n >> 96,
            (n >> 80) & 0xffff,
            (n >> 64) & 0xffff,
            (n >> 48) & 0xffff,
            n & 0xffff_ffff_ffff
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_and_prints() {
        let text = "f81d4fae-7dec-11d0-a765-00a0c91e6bf6";
        let uuid = Uuid::parse(text).unwrap();
        assert_eq!(uuid, Uuid(0xf81d4fae_7dec_11d0_a765_00a0c91e6bf6));
        assert_eq!(uuid.to_string(), text);
        assert_eq!(
            Uuid::parse("F81D4FAE-7DEC-11D0-A765-00A0C91E6BF6"),
            Ok(uuid)
        );
        assert_eq!(Uuid(1).to_string(), "00000000-0000-0000-0000-000000000001");
        assert_eq!(
            Uuid(u128::MAX).to_string(),
            "ffffffff-ffff-ffff-ffff-ffffffffffff"
        );
    }

    #[test]
    fn errors() {
        let check = |text: &str, message: &str| assert_eq!(Uuid::parse(text), Err(message.into()));
        check(
            "f81d4fae",
            "expected 36 characters in the form 8-4-4-4-12, found 8",
        );
        check(
            "f81d4fae07dec-11d0-a765-00a0c91e6bf6",
            "expected '-' at character 9",
        );
        check(
            "f81d4fae-7dec-11d0-a765-00a0c91e6bfg",
            "expected a hexadecimal digit at character 36",
        );
        check(
            "f81d4fae-7dec-11d0-a765-00a0c91e6bé",
            "expected a hexadecimal digit at character 35",
        );
    }
}
