//! Reading Prometheus metrics text.

/// The value of the sample `name` whose labels include every one of `labels`.
pub(crate) fn sample(text: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    text.lines().find_map(|line| {
        let rest = line.strip_prefix(name)?;
        let (set, value) = match rest.strip_prefix('{') {
            Some(rest) => rest.split_once("} ")?,
            None => ("", rest.strip_prefix(' ')?),
        };
        let all = labels
            .iter()
            .all(|(k, v)| set.split(',').any(|l| l == format!("{k}=\"{v}\"")));
        all.then(|| value.split(' ').next()?.parse().ok()).flatten()
    })
}
