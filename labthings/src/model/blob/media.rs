//! Media types, named at compile time, and how one matches another.

/// A media type, named at compile time: the `M` of [`Blob<M>`](super::Blob).
pub trait MediaType: Send + Sync + 'static {
    /// The media type, e.g. `image/jpeg`; `*/*` for any.
    const MEDIA_TYPE: &'static str;
}

macro_rules! media_types {
    ($($(#[$doc:meta])* $name:ident = $value:literal;)*) => {$(
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub struct $name;
        impl MediaType for $name {
            const MEDIA_TYPE: &'static str = $value;
        }
    )*};
}

media_types! {
    /// Any media type (`*/*`): the blob says which.
    Any = "*/*";
    /// `image/jpeg`
    Jpeg = "image/jpeg";
    /// `image/png`
    Png = "image/png";
    /// `image/tiff`
    Tiff = "image/tiff";
    /// `application/zip`
    Zip = "application/zip";
    /// `application/octet-stream`
    OctetStream = "application/octet-stream";
    /// `text/plain`
    Text = "text/plain";
}

/// Whether `media_type` is an instance of `pattern` (`*/*`, `image/*`, `image/jpeg`),
/// ignoring parameters and case.
pub fn matches(pattern: &str, media_type: &str) -> bool {
    let essence = |t: &str| {
        t.split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase()
    };
    let (pattern, media_type) = (essence(pattern), essence(media_type));
    let Some((kind, _)) = media_type.split_once('/') else {
        return false;
    };
    match pattern.split_once('/') {
        Some(("*", "*")) => true,
        Some((p, "*")) => p == kind,
        _ => pattern == media_type,
    }
}
