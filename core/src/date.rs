//! HTTP-date formatting (RFC 9110 section 5.6.7, IMF-fixdate). Pure: the
//! caller supplies the time, the core never reads a clock.

use http::HeaderValue;

const DAYS: [&[u8; 3]; 7] = [b"Sun", b"Mon", b"Tue", b"Wed", b"Thu", b"Fri", b"Sat"];
const MONTHS: [&[u8; 3]; 12] = [
    b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov", b"Dec",
];

/// Formats seconds since the Unix epoch as an IMF-fixdate, such as
/// `Sun, 06 Nov 1994 08:49:37 GMT`, for a `date` field. Drivers call it at
/// most once a second and reuse the value.
pub fn http_date(unix_secs: u64) -> HeaderValue {
    HeaderValue::from_bytes(&imf_fixdate(unix_secs)).expect("an IMF-fixdate is visible ASCII")
}

/// The IMF-fixdate of `unix_secs`, as bytes.
pub(crate) fn imf_fixdate(unix_secs: u64) -> [u8; 29] {
    let days = unix_secs / 86_400;
    let secs = unix_secs % 86_400;
    let (year, month, day) = civil_from_days(days);
    let mut out = [0u8; 29];
    out[..3].copy_from_slice(DAYS[((days + 4) % 7) as usize]);
    out[3..5].copy_from_slice(b", ");
    two_digits(&mut out[5..7], day);
    out[7] = b' ';
    out[8..11].copy_from_slice(MONTHS[(month - 1) as usize]);
    out[11] = b' ';
    let y = year.min(9999);
    out[12..16].copy_from_slice(&[
        b'0' + (y / 1000) as u8,
        b'0' + (y / 100 % 10) as u8,
        b'0' + (y / 10 % 10) as u8,
        b'0' + (y % 10) as u8,
    ]);
    out[16] = b' ';
    two_digits(&mut out[17..19], secs / 3600);
    out[19] = b':';
    two_digits(&mut out[20..22], secs / 60 % 60);
    out[22] = b':';
    two_digits(&mut out[23..25], secs % 60);
    out[25..].copy_from_slice(b" GMT");
    out
}

fn two_digits(dst: &mut [u8], n: u64) {
    dst[0] = b'0' + (n / 10 % 10) as u8;
    dst[1] = b'0' + (n % 10) as u8;
}

/// Year, month (1..=12) and day (1..=31) of a day count since 1970-01-01
/// (the proleptic Gregorian calendar, by era arithmetic).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::http_date;

    #[test]
    fn known_dates() {
        let cases = [
            (0, "Thu, 01 Jan 1970 00:00:00 GMT"),
            (784_111_777, "Sun, 06 Nov 1994 08:49:37 GMT"), // RFC 9110's example
            (951_782_400, "Tue, 29 Feb 2000 00:00:00 GMT"),
            (1_709_164_799, "Wed, 28 Feb 2024 23:59:59 GMT"),
            (1_709_251_200, "Fri, 01 Mar 2024 00:00:00 GMT"),
            (4_102_444_800, "Fri, 01 Jan 2100 00:00:00 GMT"),
        ];
        for (secs, want) in cases {
            assert_eq!(http_date(secs), want, "{secs}");
        }
    }
}
