//! [`Instant`] ↔ RFC 3339 text, with the calendar arithmetic done here
//! (Howard Hinnant's `days_from_civil` and `civil_from_days`), so the crate
//! needs no date library.
//!
//! Text is always printed in UTC with millisecond precision:
//! `1985-04-12T23:20:50.520Z`. Years outside 0000–9999 use the ISO 8601
//! expanded form (`+12345-01-01T00:00:00.000Z`, `-0001-...`), so every
//! `Instant` round-trips.

use std::fmt;

use crate::Instant;

const MILLIS_PER_DAY: i64 = 86_400_000;

impl Instant {
    /// Reads RFC 3339 text such as `1985-04-12T23:20:50.52Z` or
    /// `1996-12-19T16:39:57-08:00`, or a shorter timestamp as Clojure's
    /// reader takes it: the parts after the year may stop early, in order
    /// (`1985`, `1985-04`, `1985-04-12`, `1985-04-12T23`,
    /// `1985-04-12T23:20`), the missing ones the start of what is given,
    /// and without an offset the time is UTC. The offset is applied (the
    /// result is UTC); fractional digits beyond milliseconds are
    /// truncated. The error says what is wrong with the text.
    pub fn parse_rfc3339(text: &str) -> Result<Instant, String> {
        let mut cursor = Cursor {
            bytes: text.as_bytes(),
            position: 0,
        };
        let year = cursor.year()?;
        // Month, day, hour, minute, second: each is there only when the one
        // before it is, after its separator.
        let parts: [(&[u8], &str); 5] = [
            (b"-", "a two-digit month"),
            (b"-", "a two-digit day"),
            (b"Tt", "a two-digit hour"),
            (b":", "a two-digit minute"),
            (b":", "a two-digit second"),
        ];
        let mut fields = [1, 1, 0, 0, 0];
        let mut given = 0;
        for ((separators, what), field) in parts.iter().zip(&mut fields) {
            if !separators.iter().any(|separator| cursor.eat(*separator)) {
                break;
            }
            *field = cursor.digits(2, what)?;
            given += 1;
        }
        let [month, day, hour, minute, second] = fields;
        let mut millis = 0;
        if given == parts.len() && cursor.eat(b'.') {
            let start = cursor.position;
            let mut scale = 100;
            while let Some(digit) = cursor.peek_digit() {
                millis += digit * scale;
                scale /= 10;
                cursor.position += 1;
            }
            if cursor.position == start {
                return Err(cursor.error("digits after the decimal point"));
            }
        }
        let offset_minutes =
            if cursor.position == text.len() || cursor.eat(b'Z') || cursor.eat(b'z') {
                0
            } else {
                let sign = if cursor.eat(b'+') {
                    1
                } else if cursor.eat(b'-') {
                    -1
                } else {
                    return Err(cursor.error("'Z' or a UTC offset such as +02:00"));
                };
                let offset_hours = cursor.digits(2, "a two-digit offset hour")?;
                cursor.expect(b':', "':' in the UTC offset")?;
                let offset_minute = cursor.digits(2, "a two-digit offset minute")?;
                if offset_hours > 23 || offset_minute > 59 {
                    return Err(format!(
                        "UTC offset {offset_hours:02}:{offset_minute:02} is out of range"
                    ));
                }
                sign * (offset_hours * 60 + offset_minute)
            };
        if cursor.position != text.len() {
            return Err(cursor.error("end of text"));
        }
        if !(1..=12).contains(&month) {
            return Err(format!("month {month:02} is out of range"));
        }
        if day == 0 || day > days_in_month(year, month as u32) as i64 {
            return Err(format!(
                "day {day:02} is out of range for month {month:02} of year {year}"
            ));
        }
        if hour > 23 || minute > 59 || second > 59 {
            return Err(format!(
                "time {hour:02}:{minute:02}:{second:02} is out of range"
            ));
        }
        let days = i128::from(days_from_civil(year, month as u32, day as u32));
        let seconds_of_day = i128::from(hour * 3600 + minute * 60 + second);
        let total = days * i128::from(MILLIS_PER_DAY) + seconds_of_day * 1000 + i128::from(millis)
            - i128::from(offset_minutes) * 60_000;
        i64::try_from(total).map(Instant).map_err(|_| {
            "instant is out of range (more than 292 million years from 1970)".to_string()
        })
    }

    /// Prints the instant as RFC 3339 text in UTC with milliseconds, e.g.
    /// `1985-04-12T23:20:50.520Z`.
    pub fn to_rfc3339(&self) -> String {
        self.to_string()
    }
}

/// The same text as [`Instant::to_rfc3339`].
impl fmt::Display for Instant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let days = self.0.div_euclid(MILLIS_PER_DAY);
        let millis_of_day = self.0.rem_euclid(MILLIS_PER_DAY);
        let (year, month, day) = civil_from_days(days);
        if (0..=9999).contains(&year) {
            write!(f, "{year:04}")?;
        } else {
            let sign = if year < 0 { '-' } else { '+' };
            write!(f, "{sign}{:04}", year.unsigned_abs())?;
        }
        let seconds = millis_of_day / 1000;
        write!(
            f,
            "-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
            seconds / 3600,
            seconds / 60 % 60,
            seconds % 60,
            millis_of_day % 1000
        )
    }
}

/// A position in the text being read, with the small steps of the grammar.
struct Cursor<'a> {
    bytes: &'a [u8],
    position: usize,
}

impl Cursor<'_> {
    fn error(&self, expected: &str) -> String {
        match self.bytes.get(self.position) {
            Some(_) => format!("expected {expected} at character {}", self.position + 1),
            None => format!("expected {expected}, found the end of the text"),
        }
    }

    fn eat(&mut self, byte: u8) -> bool {
        let found = self.bytes.get(self.position) == Some(&byte);
        if found {
            self.position += 1;
        }
        found
    }

    fn expect(&mut self, byte: u8, expected: &str) -> Result<(), String> {
        if self.eat(byte) {
            Ok(())
        } else {
            Err(self.error(expected))
        }
    }

    fn peek_digit(&self) -> Option<i64> {
        match self.bytes.get(self.position) {
            Some(byte @ b'0'..=b'9') => Some(i64::from(byte - b'0')),
            _ => None,
        }
    }

    /// Exactly `count` decimal digits.
    fn digits(&mut self, count: usize, expected: &str) -> Result<i64, String> {
        let mut number = 0;
        for _ in 0..count {
            let digit = self.peek_digit().ok_or_else(|| self.error(expected))?;
            number = number * 10 + digit;
            self.position += 1;
        }
        Ok(number)
    }

    /// Four digits, or a sign and four to twelve digits (ISO 8601 expanded year).
    fn year(&mut self) -> Result<i64, String> {
        let sign = if self.eat(b'+') {
            1
        } else if self.eat(b'-') {
            -1
        } else {
            return self.digits(4, "a four-digit year");
        };
        let mut year = self.digits(4, "at least four digits of a signed year")?;
        let mut count = 4;
        while let Some(digit) = self.peek_digit() {
            count += 1;
            if count > 12 {
                return Err("year has more than twelve digits".to_string());
            }
            year = year * 10 + digit;
            self.position += 1;
        }
        Ok(sign * year)
    }
}

fn is_leap_year(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        2 if is_leap_year(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a date in the proleptic Gregorian calendar.
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year.rem_euclid(400);
    let month_from_march = i64::from((month + 9) % 12);
    let day_of_year = (153 * month_from_march + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The date (year, month, day) that is `days` after 1970-01-01.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let days = days + 719_468;
    let era = days.div_euclid(146_097);
    let day_of_era = days.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * month_from_march + 2) / 5 + 1) as u32;
    let month = if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str, millis: i64, printed: &str) {
        assert_eq!(Instant::parse_rfc3339(text), Ok(Instant(millis)), "{text}");
        assert_eq!(Instant(millis).to_rfc3339(), printed);
        assert_eq!(Instant::parse_rfc3339(printed), Ok(Instant(millis)));
    }

    fn check_error(text: &str, message: &str) {
        assert_eq!(
            Instant::parse_rfc3339(text),
            Err(message.to_string()),
            "{text}"
        );
    }

    #[test]
    fn reads_and_prints() {
        check("1970-01-01T00:00:00Z", 0, "1970-01-01T00:00:00.000Z");
        // Shorter timestamps, as Clojure's reader takes them: UTC, the
        // missing parts at their start.
        check("2016", 1_451_606_400_000, "2016-01-01T00:00:00.000Z");
        check("2016-03", 1_456_790_400_000, "2016-03-01T00:00:00.000Z");
        check("2016-03-05", 1_457_136_000_000, "2016-03-05T00:00:00.000Z");
        check(
            "2016-03-05T07",
            1_457_161_200_000,
            "2016-03-05T07:00:00.000Z",
        );
        check(
            "2016-03-05T07:08",
            1_457_161_680_000,
            "2016-03-05T07:08:00.000Z",
        );
        check(
            "2016-03-05T07:08:09",
            1_457_161_689_000,
            "2016-03-05T07:08:09.000Z",
        );
        check(
            "2016-03-05T07:08+01:00",
            1_457_158_080_000,
            "2016-03-05T06:08:00.000Z",
        );
        check(
            "1985-04-12T23:20:50.52Z",
            482_196_050_520,
            "1985-04-12T23:20:50.520Z",
        );
        check(
            "1985-04-12T23:20:50.5209999Z",
            482_196_050_520,
            "1985-04-12T23:20:50.520Z",
        );
        check(
            "1996-12-19T16:39:57-08:00",
            851_042_397_000,
            "1996-12-20T00:39:57.000Z",
        );
        check(
            "1937-01-01T12:00:27.87+00:20",
            -1_041_337_172_130,
            "1937-01-01T11:40:27.870Z",
        );
        check("1969-12-31t23:59:59.999z", -1, "1969-12-31T23:59:59.999Z");
        check(
            "2000-02-29T00:00:00Z",
            951_782_400_000,
            "2000-02-29T00:00:00.000Z",
        );
        check(
            "0000-01-01T00:00:00Z",
            -62_167_219_200_000,
            "0000-01-01T00:00:00.000Z",
        );
        check(
            "-0001-12-31T00:00:00Z",
            -62_167_305_600_000,
            "-0001-12-31T00:00:00.000Z",
        );
        check(
            "+10000-01-01T00:00:00Z",
            253_402_300_800_000,
            "+10000-01-01T00:00:00.000Z",
        );
    }

    #[test]
    fn extremes_round_trip() {
        for millis in [i64::MIN, i64::MIN + 1, -1, 0, 1, i64::MAX - 1, i64::MAX] {
            let text = Instant(millis).to_rfc3339();
            assert_eq!(Instant::parse_rfc3339(&text), Ok(Instant(millis)), "{text}");
        }
    }

    #[test]
    fn days_agree_with_a_day_by_day_walk() {
        let (mut year, mut month, mut day) = (1900, 1, 1);
        for days in days_from_civil(1900, 1, 1)..days_from_civil(2100, 1, 1) {
            assert_eq!(civil_from_days(days), (year, month, day));
            assert_eq!(days_from_civil(year, month, day), days);
            day += 1;
            if day > days_in_month(year, month) {
                day = 1;
                month += 1;
                if month > 12 {
                    month = 1;
                    year += 1;
                }
            }
        }
    }

    #[test]
    fn errors() {
        check_error(
            "2024-01-10 12:00",
            "expected 'Z' or a UTC offset such as +02:00 at character 11",
        );
        check_error(
            "24-01-10T00:00:00Z",
            "expected a four-digit year at character 3",
        );
        check_error("2024-13-10T00:00:00Z", "month 13 is out of range");
        check_error(
            "2023-02-29T00:00:00Z",
            "day 29 is out of range for month 02 of year 2023",
        );
        check_error("2024-01-10T24:00:00Z", "time 24:00:00 is out of range");
        check_error("2024-01-10T00:00:60Z", "time 00:00:60 is out of range");
        check_error(
            "2024-01-10T00:00:00X",
            "expected 'Z' or a UTC offset such as +02:00 at character 20",
        );
        check_error(
            "2024-01-10T00:00:00.Z",
            "expected digits after the decimal point at character 21",
        );
        check_error(
            "2024-01-10T00:00:00+0200",
            "expected ':' in the UTC offset at character 23",
        );
        check_error(
            "2024-01-10T00:00:00+24:00",
            "UTC offset 24:00 is out of range",
        );
        check_error(
            "2024-01-10T00:00:00Zjunk",
            "expected end of text at character 21",
        );
        check_error(
            "+999999999999-01-01T00:00:00Z",
            "instant is out of range (more than 292 million years from 1970)",
        );
        check_error(
            "+9999999999999-01-01T00:00:00Z",
            "year has more than twelve digits",
        );
    }
}
