//! PostgreSQL values to JSON, and JSON arguments to PostgreSQL parameters.
//!
//! tokio-postgres asks for every result column in binary format; this module decodes the common
//! types itself so that any query's rows can be shown, whatever its column types. Types it does
//! not know come back as `null` with a note suggesting a cast to `text`.

use std::error::Error;
use std::fmt::Write as _;

use fallible_iterator::FallibleIterator;
use postgres_protocol::types as wire;
use postgres_types::{to_sql_checked, FromSql, IsNull, Kind, ToSql, Type};
use serde_json::{json, Value};
use tokio_postgres::types::Format;

type BoxError = Box<dyn Error + Sync + Send>;

/// The longest text value returned as is; longer ones are cut (the note says so).
pub(crate) const MAX_VALUE_BYTES: usize = 16 * 1024;

/// A column value as the raw bytes PostgreSQL sent, whatever its type.
#[derive(Debug)]
pub(crate) struct RawValue<'a>(pub(crate) Option<&'a [u8]>);

impl<'a> FromSql<'a> for RawValue<'a> {
    fn from_sql(_: &Type, raw: &'a [u8]) -> Result<Self, BoxError> {
        Ok(RawValue(Some(raw)))
    }

    fn from_sql_null(_: &Type) -> Result<Self, BoxError> {
        Ok(RawValue(None))
    }

    fn accepts(_: &Type) -> bool {
        true
    }
}

/// A parameter sent in text format: PostgreSQL converts it to the parameter's type, exactly as
/// it would a literal in the SQL text.
#[derive(Debug, Clone)]
pub(crate) struct TextParam(pub(crate) Option<String>);

impl TextParam {
    /// JSON strings go as they are; numbers and booleans as their JSON text; objects and arrays
    /// as JSON (for `json`/`jsonb` parameters); `null` as SQL NULL.
    pub(crate) fn from_json(v: &Value) -> TextParam {
        TextParam(match v {
            Value::Null => None,
            Value::String(s) => Some(s.clone()),
            other => Some(other.to_string()),
        })
    }
}

impl ToSql for TextParam {
    fn to_sql(&self, _: &Type, out: &mut bytes::BytesMut) -> Result<IsNull, BoxError> {
        match &self.0 {
            Some(s) => {
                out.extend_from_slice(s.as_bytes());
                Ok(IsNull::No)
            }
            None => Ok(IsNull::Yes),
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    fn encode_format(&self, _: &Type) -> Format {
        Format::Text
    }

    to_sql_checked!();
}

/// Why a value could not be shown as is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Caveat {
    /// The type is not decoded; the value is `null`.
    Unsupported,
    /// The value was longer than [`MAX_VALUE_BYTES`] and was cut.
    Truncated,
}

/// Decodes one value. `caveat` is set when the value is not shown faithfully.
pub(crate) fn to_json(ty: &Type, raw: Option<&[u8]>, caveat: &mut Option<Caveat>) -> Value {
    let Some(raw) = raw else {
        return Value::Null;
    };
    match decode(ty, raw, caveat) {
        Ok(v) => v,
        Err(_) => {
            *caveat = Some(Caveat::Unsupported);
            Value::Null
        }
    }
}

fn text(raw: &[u8], caveat: &mut Option<Caveat>) -> Result<Value, BoxError> {
    let s = wire::text_from_sql(raw)?;
    Ok(Value::String(cut(s, caveat)))
}

fn cut(s: &str, caveat: &mut Option<Caveat>) -> String {
    if s.len() <= MAX_VALUE_BYTES {
        return s.to_owned();
    }
    let mut end = MAX_VALUE_BYTES;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    caveat.get_or_insert(Caveat::Truncated);
    format!("{}… ({} bytes in all)", &s[..end], s.len())
}

fn decode(ty: &Type, raw: &[u8], caveat: &mut Option<Caveat>) -> Result<Value, BoxError> {
    match ty.kind() {
        Kind::Enum(_) => return text(raw, caveat),
        Kind::Domain(base) => return decode(base, raw, caveat),
        Kind::Array(element) => return array(element, raw, caveat),
        Kind::Composite(fields) => return composite(fields, raw, caveat),
        _ => {}
    }
    Ok(match *ty {
        Type::BOOL => json!(wire::bool_from_sql(raw)?),
        Type::INT2 => json!(wire::int2_from_sql(raw)?),
        Type::INT4 => json!(wire::int4_from_sql(raw)?),
        Type::INT8 => json!(wire::int8_from_sql(raw)?),
        Type::OID | Type::XID | Type::CID | Type::REGCLASS | Type::REGTYPE | Type::REGPROC => {
            json!(wire::oid_from_sql(raw)?)
        }
        Type::FLOAT4 => float(f64::from(wire::float4_from_sql(raw)?)),
        Type::FLOAT8 => float(wire::float8_from_sql(raw)?),
        Type::NUMERIC => Value::String(numeric(raw)?),
        Type::MONEY => {
            let cents = wire::int8_from_sql(raw)?;
            Value::String(format!(
                "{}{}.{:02}",
                if cents < 0 { "-" } else { "" },
                (cents / 100).unsigned_abs(),
                (cents % 100).unsigned_abs()
            ))
        }
        Type::TEXT
        | Type::VARCHAR
        | Type::BPCHAR
        | Type::NAME
        | Type::UNKNOWN
        | Type::XML
        | Type::JSON
        | Type::REFCURSOR => {
            if *ty == Type::JSON {
                let s = wire::text_from_sql(raw)?;
                if s.len() <= MAX_VALUE_BYTES {
                    return Ok(serde_json::from_str(s).unwrap_or_else(|_| Value::String(s.into())));
                }
            }
            text(raw, caveat)?
        }
        Type::JSONB => {
            // Version byte 1, then the JSON text.
            let body = raw.strip_prefix(&[1]).ok_or("unknown jsonb version")?;
            let s = wire::text_from_sql(body)?;
            if s.len() <= MAX_VALUE_BYTES {
                serde_json::from_str(s)?
            } else {
                Value::String(cut(s, caveat))
            }
        }
        Type::CHAR => {
            let c = wire::char_from_sql(raw)? as u8;
            Value::String(char::from(c).to_string())
        }
        Type::BYTEA => {
            let bytes = wire::bytea_from_sql(raw);
            let shown = &bytes[..bytes.len().min(MAX_VALUE_BYTES / 2)];
            let mut s = String::with_capacity(2 + shown.len() * 2);
            s.push_str("\\x");
            for b in shown {
                let _ = write!(s, "{b:02x}");
            }
            if shown.len() < bytes.len() {
                caveat.get_or_insert(Caveat::Truncated);
                let _ = write!(s, "… ({} bytes in all)", bytes.len());
            }
            Value::String(s)
        }
        Type::UUID => {
            let b = wire::uuid_from_sql(raw)?;
            let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
            Value::String(format!(
                "{}-{}-{}-{}-{}",
                &h[0..8],
                &h[8..12],
                &h[12..16],
                &h[16..20],
                &h[20..32]
            ))
        }
        Type::DATE => Value::String(date(wire::date_from_sql(raw)?)),
        Type::TIME => Value::String(time_of_day(wire::time_from_sql(raw)?)),
        Type::TIMESTAMP => Value::String(timestamp(wire::timestamp_from_sql(raw)?, false)),
        Type::TIMESTAMPTZ => Value::String(timestamp(wire::timestamp_from_sql(raw)?, true)),
        Type::INTERVAL => Value::String(interval(raw)?),
        Type::INET | Type::CIDR => {
            let inet = wire::inet_from_sql(raw)?;
            let full = if inet.addr().is_ipv4() { 32 } else { 128 };
            Value::String(if inet.netmask() == full && *ty == Type::INET {
                inet.addr().to_string()
            } else {
                format!("{}/{}", inet.addr(), inet.netmask())
            })
        }
        Type::MACADDR => {
            let m = wire::macaddr_from_sql(raw)?;
            Value::String(
                m.iter()
                    .map(|b| format!("{b:02x}"))
                    .collect::<Vec<_>>()
                    .join(":"),
            )
        }
        Type::BIT | Type::VARBIT => {
            let bits = wire::varbit_from_sql(raw)?;
            let s: String = bits
                .bytes()
                .iter()
                .flat_map(|b| {
                    (0..8)
                        .rev()
                        .map(move |i| if b >> i & 1 == 1 { '1' } else { '0' })
                })
                .take(bits.len())
                .collect();
            Value::String(cut(&s, caveat))
        }
        Type::PG_LSN => {
            let lsn = wire::lsn_from_sql(raw)?;
            Value::String(format!("{:X}/{:X}", lsn >> 32, lsn & 0xffff_ffff))
        }
        _ => {
            // Extension types whose binary format is their text (citext and friends).
            if matches!(ty.name(), "citext" | "ltree" | "lquery" | "ltxtquery") {
                let body = if ty.name() == "citext" {
                    raw
                } else {
                    raw.get(1..).unwrap_or_default()
                };
                return text(body, caveat);
            }
            *caveat = Some(Caveat::Unsupported);
            Value::Null
        }
    })
}

fn float(f: f64) -> Value {
    if f.is_finite() {
        json!(f)
    } else if f.is_nan() {
        json!("NaN")
    } else if f > 0.0 {
        json!("Infinity")
    } else {
        json!("-Infinity")
    }
}

fn array(element: &Type, raw: &[u8], caveat: &mut Option<Caveat>) -> Result<Value, BoxError> {
    let arr = wire::array_from_sql(raw)?;
    let dims: Vec<usize> = arr
        .dimensions()
        .map(|d| Ok(usize::try_from(d.len).unwrap_or(0)))
        .collect()?;
    let mut values = Vec::new();
    let mut it = arr.values();
    while let Some(v) = it.next()? {
        values.push(match v {
            None => Value::Null,
            Some(bytes) => decode(element, bytes, caveat)?,
        });
    }
    if dims.is_empty() {
        return Ok(Value::Array(Vec::new()));
    }
    Ok(nest(&dims, &mut values.into_iter()))
}

/// Rebuilds a multi-dimensional array from its flattened values.
fn nest(dims: &[usize], values: &mut impl Iterator<Item = Value>) -> Value {
    match dims {
        [] => values.next().unwrap_or(Value::Null),
        [n, rest @ ..] => Value::Array((0..*n).map(|_| nest(rest, values)).collect()),
    }
}

fn composite(
    fields: &[postgres_types::Field],
    mut raw: &[u8],
    caveat: &mut Option<Caveat>,
) -> Result<Value, BoxError> {
    fn take<'a>(raw: &mut &'a [u8], n: usize) -> Result<&'a [u8], BoxError> {
        if raw.len() < n {
            return Err("truncated record".into());
        }
        let (head, tail) = raw.split_at(n);
        *raw = tail;
        Ok(head)
    }
    let count = wire::int4_from_sql(take(&mut raw, 4)?)?;
    let mut out = serde_json::Map::new();
    for i in 0..usize::try_from(count).unwrap_or(0) {
        let _oid = take(&mut raw, 4)?;
        let len = wire::int4_from_sql(take(&mut raw, 4)?)?;
        let (name, value) = match fields.get(i) {
            Some(f) => {
                let v = if len < 0 {
                    Value::Null
                } else {
                    let bytes = take(&mut raw, usize::try_from(len).unwrap_or(0))?;
                    decode(f.type_(), bytes, caveat)?
                };
                (f.name().to_owned(), v)
            }
            None => return Err("record has more fields than its type".into()),
        };
        out.insert(name, value);
    }
    Ok(Value::Object(out))
}

/// `numeric` from its binary form (base-10000 digits) to exact decimal text.
pub(crate) fn numeric(raw: &[u8]) -> Result<String, BoxError> {
    let word = |i: usize| -> Result<u16, BoxError> {
        raw.get(i..i + 2)
            .map(|b| u16::from_be_bytes([b[0], b[1]]))
            .ok_or_else(|| "truncated numeric".into())
    };
    let ndigits = usize::from(word(0)?);
    let weight = i32::from(word(2)? as i16);
    let sign = word(4)?;
    let dscale = usize::from(word(6)?);
    match sign {
        0xC000 => return Ok("NaN".into()),
        0xD000 => return Ok("Infinity".into()),
        0xF000 => return Ok("-Infinity".into()),
        _ => {}
    }
    let digits: Vec<u16> = (0..ndigits)
        .map(|i| word(8 + 2 * i))
        .collect::<Result<_, _>>()?;
    let mut int_part = String::new();
    for w in 0..=weight.max(-1) {
        let d = usize::try_from(w)
            .ok()
            .and_then(|w| digits.get(w))
            .copied()
            .unwrap_or(0);
        if int_part.is_empty() {
            if d != 0 {
                int_part = d.to_string();
            }
        } else {
            let _ = write!(int_part, "{d:04}");
        }
    }
    if int_part.is_empty() {
        int_part.push('0');
    }
    let mut frac = String::new();
    let mut w = weight + 1;
    while frac.len() < dscale {
        let d = usize::try_from(w)
            .ok()
            .and_then(|w| digits.get(w))
            .copied()
            .unwrap_or(0);
        let _ = write!(frac, "{d:04}");
        w += 1;
    }
    frac.truncate(dscale);
    let sign = if sign == 0x4000 { "-" } else { "" };
    Ok(if frac.is_empty() {
        format!("{sign}{int_part}")
    } else {
        format!("{sign}{int_part}.{frac}")
    })
}

/// Days since 2000-01-01 to a civil date (proleptic Gregorian).
fn civil(days_since_2000: i64) -> (i64, u32, u32) {
    // Howard Hinnant's days-to-civil, shifted from the 1970 epoch.
    let z = days_since_2000 + 10_957 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

fn ymd(days: i64) -> String {
    let (y, m, d) = civil(days);
    if y <= 0 {
        format!("{:04}-{m:02}-{d:02} BC", 1 - y)
    } else {
        format!("{y:04}-{m:02}-{d:02}")
    }
}

fn date(days: i32) -> String {
    match days {
        i32::MAX => "infinity".into(),
        i32::MIN => "-infinity".into(),
        d => ymd(i64::from(d)),
    }
}

fn time_of_day(micros: i64) -> String {
    let secs = micros.div_euclid(1_000_000);
    let frac = micros.rem_euclid(1_000_000);
    let mut s = format!("{:02}:{:02}:{:02}", secs / 3600, secs / 60 % 60, secs % 60);
    if frac != 0 {
        let f = format!("{frac:06}");
        s.push('.');
        s.push_str(f.trim_end_matches('0'));
    }
    s
}

fn timestamp(micros: i64, utc: bool) -> String {
    match micros {
        i64::MAX => return "infinity".into(),
        i64::MIN => return "-infinity".into(),
        _ => {}
    }
    let days = micros.div_euclid(86_400_000_000);
    let rest = micros.rem_euclid(86_400_000_000);
    let (date, bc) = {
        let s = ymd(days);
        match s.strip_suffix(" BC") {
            Some(d) => (d.to_owned(), " BC"),
            None => (s, ""),
        }
    };
    format!(
        "{date}T{}{}{bc}",
        time_of_day(rest),
        if utc { "Z" } else { "" }
    )
}

fn interval(raw: &[u8]) -> Result<String, BoxError> {
    if raw.len() != 16 {
        return Err("bad interval".into());
    }
    let micros = wire::int8_from_sql(&raw[0..8])?;
    let days = wire::int4_from_sql(&raw[8..12])?;
    let months = wire::int4_from_sql(&raw[12..16])?;
    let mut parts = Vec::new();
    let (years, months) = (months / 12, months % 12);
    let plural = |n: i64, unit: &str| format!("{n} {unit}{}", if n.abs() == 1 { "" } else { "s" });
    if years != 0 {
        parts.push(plural(i64::from(years), "year"));
    }
    if months != 0 {
        parts.push(format!(
            "{months} mon{}",
            if months.abs() == 1 { "" } else { "s" }
        ));
    }
    if days != 0 {
        parts.push(plural(i64::from(days), "day"));
    }
    if micros != 0 || parts.is_empty() {
        let sign = if micros < 0 { "-" } else { "" };
        parts.push(format!("{sign}{}", time_of_day(micros.abs())));
    }
    Ok(parts.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn numeric_bytes(ndigits: u16, weight: i16, sign: u16, dscale: u16, digits: &[u16]) -> Vec<u8> {
        let mut v = Vec::new();
        for w in [ndigits, weight as u16, sign, dscale] {
            v.extend_from_slice(&w.to_be_bytes());
        }
        for d in digits {
            v.extend_from_slice(&d.to_be_bytes());
        }
        v
    }

    #[test]
    fn numerics_are_exact() {
        // 12345.6789
        let n = numeric_bytes(3, 1, 0, 4, &[1, 2345, 6789]);
        assert_eq!(numeric(&n).ok().as_deref(), Some("12345.6789"));
        // -0.05
        let n = numeric_bytes(1, -1, 0x4000, 2, &[500]);
        assert_eq!(numeric(&n).ok().as_deref(), Some("-0.05"));
        // 100000000 (two base-10000 groups with trailing zeros elided)
        let n = numeric_bytes(1, 2, 0, 0, &[1]);
        assert_eq!(numeric(&n).ok().as_deref(), Some("100000000"));
        let n = numeric_bytes(0, 0, 0xC000, 0, &[]);
        assert_eq!(numeric(&n).ok().as_deref(), Some("NaN"));
    }

    #[test]
    fn dates_and_times() {
        assert_eq!(date(0), "2000-01-01");
        assert_eq!(date(-1), "1999-12-31");
        assert_eq!(date(366 + 58), "2001-02-28");
        assert_eq!(
            timestamp(86_400_000_000 + 3_723_500_000, true),
            "2000-01-02T01:02:03.5Z"
        );
        assert_eq!(time_of_day(0), "00:00:00");
        let mut iv = Vec::new();
        iv.extend_from_slice(&3_600_000_000i64.to_be_bytes());
        iv.extend_from_slice(&2i32.to_be_bytes());
        iv.extend_from_slice(&14i32.to_be_bytes());
        assert_eq!(
            interval(&iv).ok().as_deref(),
            Some("1 year 2 mons 2 days 01:00:00")
        );
    }

    #[test]
    fn long_text_is_cut_and_flagged() {
        let mut caveat = None;
        let long = "é".repeat(MAX_VALUE_BYTES);
        let v = to_json(&Type::TEXT, Some(long.as_bytes()), &mut caveat);
        assert_eq!(caveat, Some(Caveat::Truncated));
        assert!(v.as_str().is_some_and(|s| s.len() < long.len()));
    }

    #[test]
    fn text_params_map_json() {
        assert_eq!(TextParam::from_json(&json!(null)).0, None);
        assert_eq!(TextParam::from_json(&json!("a")).0.as_deref(), Some("a"));
        assert_eq!(TextParam::from_json(&json!(1.5)).0.as_deref(), Some("1.5"));
        assert_eq!(
            TextParam::from_json(&json!({"k": 1})).0.as_deref(),
            Some("{\"k\":1}")
        );
    }
}
