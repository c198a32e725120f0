//! [`ToValue`] and [`FromValue`] for other crates' types, each behind its
//! feature: `chrono::DateTime` as an instant (feature `chrono`),
//! `time::OffsetDateTime` as an instant (feature `time`) and `uuid::Uuid`
//! as a uuid (feature `uuid`).

use factlite_edn::Value;

use super::{ConversionError, FromValue, ToValue};

/// Milliseconds since the Unix epoch, rounded down; the time zone is not
/// kept (instants are UTC).
#[cfg(feature = "chrono")]
impl<Tz: chrono::TimeZone> ToValue for chrono::DateTime<Tz> {
    fn to_value(&self) -> Result<Value, ConversionError> {
        Ok(Value::Inst(factlite_edn::Instant(self.timestamp_millis())))
    }
}

#[cfg(feature = "chrono")]
impl FromValue for chrono::DateTime<chrono::Utc> {
    fn from_value(value: &Value) -> Result<Self, ConversionError> {
        let Value::Inst(factlite_edn::Instant(millis)) = value else {
            return Err(ConversionError::wrong_type("chrono::DateTime<Utc>", value));
        };
        chrono::DateTime::from_timestamp_millis(*millis).ok_or_else(|| {
            ConversionError::mismatch(
                "chrono::DateTime<Utc>",
                format!("instant {value} (out of range)"),
            )
        })
    }
}

/// Milliseconds since the Unix epoch, rounded down; the offset is not
/// kept (instants are UTC).
#[cfg(feature = "time")]
impl ToValue for time::OffsetDateTime {
    fn to_value(&self) -> Result<Value, ConversionError> {
        let millis = self.unix_timestamp_nanos().div_euclid(1_000_000);
        i64::try_from(millis)
            .map(|millis| Value::Inst(factlite_edn::Instant(millis)))
            .map_err(|_| ConversionError::mismatch("an instant", format!("{self} (out of range)")))
    }
}

/// The instant, at UTC.
#[cfg(feature = "time")]
impl FromValue for time::OffsetDateTime {
    fn from_value(value: &Value) -> Result<Self, ConversionError> {
        let Value::Inst(factlite_edn::Instant(millis)) = value else {
            return Err(ConversionError::wrong_type("time::OffsetDateTime", value));
        };
        time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(*millis) * 1_000_000).map_err(
            |_| {
                ConversionError::mismatch(
                    "time::OffsetDateTime",
                    format!("instant {value} (out of range)"),
                )
            },
        )
    }
}

#[cfg(feature = "uuid")]
impl ToValue for uuid::Uuid {
    fn to_value(&self) -> Result<Value, ConversionError> {
        Ok(Value::Uuid(factlite_edn::Uuid(self.as_u128())))
    }
}

#[cfg(feature = "uuid")]
impl FromValue for uuid::Uuid {
    fn from_value(value: &Value) -> Result<Self, ConversionError> {
        match value {
            Value::Uuid(factlite_edn::Uuid(number)) => Ok(uuid::Uuid::from_u128(*number)),
            other => Err(ConversionError::wrong_type("uuid::Uuid", other)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(feature = "time")]
    #[test]
    fn time_offset_date_times_are_instants() {
        let time = time::OffsetDateTime::from_unix_timestamp_nanos(1_704_877_200_250_999_999)
            .expect("time")
            .to_offset(time::UtcOffset::from_hms(1, 0, 0).expect("offset"));
        let value = time.to_value().expect("converts");
        assert_eq!(
            value,
            factlite_edn::parse(r#"#inst "2024-01-10T09:00:00.250Z""#).expect("EDN")
        );
        let back = time::OffsetDateTime::from_value(&value).expect("converts back");
        assert_eq!(back.unix_timestamp_nanos(), 1_704_877_200_250_000_000);
        assert_eq!(back.offset(), time::UtcOffset::UTC);
        let before_1970 = time::OffsetDateTime::from_unix_timestamp_nanos(-1).expect("time");
        assert_eq!(
            before_1970.to_value().expect("converts"),
            Value::Inst(factlite_edn::Instant(-1))
        );
        let far = Value::Inst(factlite_edn::Instant(i64::MAX));
        assert!(time::OffsetDateTime::from_value(&far).is_err());
    }

    #[cfg(feature = "chrono")]
    #[test]
    fn chrono_date_times_are_instants() {
        use chrono::{DateTime, FixedOffset, Utc};
        let time = DateTime::parse_from_rfc3339("2024-01-10T10:00:00.250+01:00").expect("time");
        let value = time.to_value().expect("converts");
        assert_eq!(
            value,
            factlite_edn::parse(r#"#inst "2024-01-10T09:00:00.250Z""#).expect("EDN")
        );
        let back = DateTime::<Utc>::from_value(&value).expect("converts back");
        assert_eq!(back, time.with_timezone(&Utc));
        assert_eq!(
            back.fixed_offset(),
            time.with_timezone(&FixedOffset::east_opt(0).expect("UTC"))
        );
        let error = DateTime::<Utc>::from_value(&Value::Inst(factlite_edn::Instant(i64::MAX)))
            .expect_err("out of chrono's range");
        assert!(error.to_string().ends_with("(out of range)"), "{error}");
        let error = DateTime::<Utc>::from_value(&Value::from("2024")).expect_err("a string");
        assert_eq!(
            error.to_string(),
            "expected chrono::DateTime<Utc>, found string"
        );
    }

    #[cfg(feature = "uuid")]
    #[test]
    fn uuids_are_uuids() {
        let uuid = uuid::Uuid::from_u128(0xf81d4fae_7dec_11d0_a765_00a0c91e6bf6);
        let value = uuid.to_value().expect("converts");
        assert_eq!(
            value,
            factlite_edn::parse(r#"#uuid "f81d4fae-7dec-11d0-a765-00a0c91e6bf6""#).expect("EDN")
        );
        assert_eq!(uuid::Uuid::from_value(&value), Ok(uuid));
        let error = uuid::Uuid::from_value(&Value::from("f81d4fae")).expect_err("a string");
        assert_eq!(error.to_string(), "expected uuid::Uuid, found string");
    }
}
