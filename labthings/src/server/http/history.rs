//! `GET /{thing}/{property}/history?since=…&limit=…`: the value history of an observable
//! numeric or boolean property, as JSON or (with `Accept: text/csv`) as CSV.

use std::fmt::Write as _;
use std::time::{Duration, SystemTime};

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::response;
use crate::broker::{Samples, Series, SeriesKind};
use crate::problem::Problem;

/// The query of a history request.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct HistoryQuery {
    /// Only samples published after this time (RFC 3339: `2026-12-04T10:00:00.250Z`).
    since: Option<String>,
    /// At most this many samples, the most recent (1 to 2³² − 1, as the OpenAPI document
    /// says; default: all kept).
    limit: Option<u32>,
}

/// The samples of `series` that `query` asks for, in the format `headers` accept.
pub(crate) fn serve(
    series: &Series,
    (thing, property): (&str, &str),
    uri: &axum::http::Uri,
    headers: &HeaderMap,
) -> Result<Response, Problem> {
    let axum::extract::Query(query) = axum::extract::Query::<HistoryQuery>::try_from_uri(uri)
        .map_err(|e| Problem::bad_request(e.body_text()))?;
    let since = query
        .since
        .as_deref()
        .map(parse_since)
        .transpose()?
        .flatten();
    let limit = match query.limit {
        Some(0) => {
            return Err(Problem::bad_request(
                "`limit` must be at least 1".to_owned(),
            ));
        }
        Some(limit) => usize::try_from(limit).unwrap_or(usize::MAX),
        None => usize::MAX,
    };
    let samples = series.query(since, limit);
    Ok(match wants_csv(headers) {
        true => csv(&samples, series.kind()),
        false => response::serialized(
            StatusCode::OK,
            &document(&samples, series.kind(), thing, property),
        ),
    })
}

/// `since`, an RFC 3339 time (`Z` or an offset; none is UTC). A time before 1970 is before
/// every sample: `None`.
fn parse_since(text: &str) -> Result<Option<SystemTime>, Problem> {
    let refused = |why: &dyn std::fmt::Display| {
        Problem::bad_request(format!(
            "`since` must be an RFC 3339 time such as 2026-12-04T10:00:00.250Z, not '{text}': {why}"
        ))
    };
    let (local, offset) = split_offset(text).ok_or_else(|| refused(&"its offset is not ±hh:mm"))?;
    match humantime::parse_rfc3339_weak(local) {
        // East of UTC, local times are ahead of it.
        Ok(at) if offset >= 0 => Ok(at.checked_sub(Duration::from_secs(offset.unsigned_abs()))),
        Ok(at) => Ok(at.checked_add(Duration::from_secs(offset.unsigned_abs()))),
        Err(humantime::TimestampError::OutOfRange)
            if local.get(..4).and_then(|y| y.parse::<u32>().ok()) < Some(1970) =>
        {
            Ok(None)
        }
        Err(e) => Err(refused(&e)),
    }
}

/// The local time of an RFC 3339 time and its offset from UTC in seconds.
fn split_offset(text: &str) -> Option<(&str, i64)> {
    if let Some(local) = text.strip_suffix(['Z', 'z']) {
        return Some((local, 0));
    }
    let sign_at = text.len().checked_sub(6)?;
    let (local, offset) = text.split_at_checked(sign_at)?;
    let sign = match offset.as_bytes()[0] {
        b'+' => 1,
        b'-' => -1,
        // No offset: UTC.
        _ => return Some((text, 0)),
    };
    let (hours, minutes) = offset[1..].split_once(':')?;
    let (hours, minutes) = (hours.parse::<i64>().ok()?, minutes.parse::<i64>().ok()?);
    (hours < 24 && minutes < 60).then_some((local, sign * (hours * 3600 + minutes * 60)))
}

/// Whether the client asks for CSV rather than JSON.
fn wants_csv(headers: &HeaderMap) -> bool {
    (headers.get_all(header::ACCEPT).iter())
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(|kind| kind.split(';').next().unwrap_or("").trim() == "text/csv")
}

fn time(at_ms: i64) -> String {
    let at = match u64::try_from(at_ms) {
        Ok(ms) => SystemTime::UNIX_EPOCH + std::time::Duration::from_millis(ms),
        Err(_) => SystemTime::UNIX_EPOCH,
    };
    humantime::format_rfc3339_millis(at).to_string()
}

/// The JSON document of `samples`.
fn document(samples: &Samples, kind: SeriesKind, thing: &str, property: &str) -> Value {
    let points: Vec<Value> = (samples.samples.iter())
        .map(|s| json!({"time": time(s.at_ms), "value": s.json(kind)}))
        .collect();
    json!({
        "thing": thing,
        "property": property,
        "samples": points,
        "omitted": samples.omitted,
    })
}

/// `time,value` lines, a header first; `null` is an empty value.
fn csv(samples: &Samples, kind: SeriesKind) -> Response {
    let mut body = String::from("time,value\r\n");
    for sample in &samples.samples {
        let value = match sample.json(kind) {
            Value::Null => String::new(),
            value => value.to_string(),
        };
        let _ = write!(body, "{},{value}\r\n", time(sample.at_ms));
    }
    let mut response = (StatusCode::OK, body).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8; header=present"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_takes_every_rfc_3339_form() {
        let utc = parse_since("2026-12-04T10:00:00.250Z").unwrap().unwrap();
        assert_eq!(crate::broker::series::unix_ms(utc), 1_796_378_400_250);
        let east = parse_since("2026-12-04T11:30:00.250+01:30")
            .unwrap()
            .unwrap();
        assert_eq!(east, utc);
        let west = parse_since("2026-12-04T09:00:00.250-01:00")
            .unwrap()
            .unwrap();
        assert_eq!(west, utc);
        assert_eq!(parse_since("2026-12-04T10:00:00.250").unwrap(), Some(utc));
        assert_eq!(parse_since("0001-01-01T00:00:00Z").unwrap(), None);
        for bad in [
            "yesterday",
            "2026-12-04T10:00:00+1:00",
            "2026-13-04T10:00:00Z",
            "",
        ] {
            let problem = parse_since(bad).unwrap_err();
            assert_eq!(problem.status, 400);
            assert!(
                problem.detail.contains(&format!("'{bad}'")),
                "{}",
                problem.detail
            );
        }
    }
}
