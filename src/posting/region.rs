//! Region names as admins type them and bulletins write them: one key that
//! makes `Africa & Europe`, `africa + europe` and `Africa and Europe` the
//! same region, the choices `/prayer setup` offers, and the close matches a
//! misspelled name gets. Pure: no I/O, no Discord.

/// Region headings that IJM bulletins use, so a server can route a region
/// before its first bulletin arrives. The regions of the server's own
/// bulletins are offered beside them.
pub const KNOWN_REGIONS: [&str; 9] = [
    "Africa",
    "Africa & Europe",
    "Asia Pacific",
    "General",
    "IJM Global Office & Partners",
    "IJM HQ & Global Partners",
    "Latin America",
    "South Asia",
    "Southeast Asia",
];

/// Discord's limit on an autocomplete choice's name (and on how many
/// choices it shows).
pub const CHOICE_NAME_LIMIT: usize = 100;
pub const CHOICE_LIMIT: usize = 25;

/// The key two spellings of one region share: lower case, `&` and `+` read
/// as `and`, and anything but letters and digits as one space.
pub fn region_key(name: &str) -> String {
    let mut key = String::with_capacity(name.len());
    let mut gap = false;
    for c in name.chars() {
        if c == '&' || c == '+' {
            if !key.is_empty() {
                key.push(' ');
            }
            key.push_str("and");
            gap = true;
        } else if c.is_alphanumeric() {
            if gap && !key.is_empty() {
                key.push(' ');
            }
            gap = false;
            key.extend(c.to_lowercase());
        } else {
            gap = true;
        }
    }
    key
}

/// The regions an admin may choose from: `seen` (the server's bulletins)
/// then [`KNOWN_REGIONS`], each key once, in that order.
pub fn region_choices(seen: &[String]) -> Vec<&str> {
    let mut choices: Vec<&str> = Vec::new();
    let mut keys: Vec<String> = Vec::new();
    for name in seen.iter().map(String::as_str).chain(KNOWN_REGIONS) {
        let key = region_key(name);
        if key.is_empty() || name.chars().count() > CHOICE_NAME_LIMIT || keys.contains(&key) {
            continue;
        }
        keys.push(key);
        choices.push(name);
    }
    choices
}

/// The choices that match what the admin has typed so far (any word of a
/// choice starting with it, any letter case), at most [`CHOICE_LIMIT`].
pub fn autocomplete<'a>(choices: &[&'a str], partial: &str) -> Vec<&'a str> {
    let typed = region_key(partial);
    choices
        .iter()
        .filter(|name| {
            let key = region_key(name);
            typed.is_empty()
                || key.starts_with(&typed)
                || key
                    .match_indices(' ')
                    .any(|(i, _)| key[i + 1..].starts_with(&typed))
        })
        .take(CHOICE_LIMIT)
        .copied()
        .collect()
}

/// Why a typed region was not taken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownRegion {
    /// The closest choices, best first (at most three; may be empty).
    pub close: Vec<String>,
}

/// The choice `typed` names (same [`region_key`]), or the closest ones.
pub fn match_region(choices: &[&str], typed: &str) -> Result<String, UnknownRegion> {
    let key = region_key(typed);
    if let Some(found) = choices.iter().find(|name| region_key(name) == key) {
        return Ok((*found).to_owned());
    }
    // Long input is nobody's region: compare only its start, so a pasted
    // essay costs no more than a name.
    let key: String = key.chars().take(2 * CHOICE_NAME_LIMIT).collect();
    let mut scored: Vec<(usize, &str)> = choices
        .iter()
        .filter_map(|name| {
            let candidate = region_key(name);
            let distance = if candidate.contains(&key) || key.contains(&candidate) {
                0
            } else {
                strsim::levenshtein(&candidate, &key)
            };
            // Close means within a third of the name's letters (at least 2).
            let close_enough = (candidate.chars().count() / 3).max(2);
            (distance <= close_enough).then_some((distance, *name))
        })
        .collect();
    scored.sort_by_key(|(distance, _)| *distance);
    Err(UnknownRegion {
        close: scored
            .into_iter()
            .take(3)
            .map(|(_, name)| name.to_owned())
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings_of_one_region_share_a_key() {
        assert_eq!(region_key("Africa & Europe"), "africa and europe");
        assert_eq!(region_key(" africa+europe: "), "africa and europe");
        assert_eq!(region_key("Africa and  Europe"), "africa and europe");
        assert_eq!(region_key("Latin América"), "latin américa");
        assert_eq!(region_key("—"), "");
    }

    #[test]
    fn a_misspelled_region_is_refused_with_the_close_matches() {
        let seen = vec!["Latin America".to_owned(), "Africa + Europe".to_owned()];
        let choices = region_choices(&seen);
        assert_eq!(
            match_region(&choices, "latin america"),
            Ok("Latin America".to_owned())
        );
        assert_eq!(
            match_region(&choices, "Africa & Europe"),
            Ok("Africa + Europe".to_owned()),
            "the bulletin's own spelling wins"
        );
        let refused = match_region(&choices, "Latn Amrica").expect_err("misspelled");
        assert_eq!(
            refused.close.first().map(String::as_str),
            Some("Latin America")
        );
        let refused = match_region(&choices, "Antarctica").expect_err("unknown");
        assert!(refused.close.is_empty(), "{refused:?}");
        let essay = "x".repeat(6000);
        assert!(match_region(&choices, &essay).is_err());
    }

    #[test]
    fn autocomplete_offers_at_most_25_choices_matching_any_word() {
        let seen: Vec<String> = (0..40).map(|i| format!("Region {i}")).collect();
        let choices = region_choices(&seen);
        assert_eq!(autocomplete(&choices, "").len(), CHOICE_LIMIT);
        assert_eq!(autocomplete(&choices, "amer"), ["Latin America"]);
        assert_eq!(
            autocomplete(&choices, "ASIA"),
            ["Asia Pacific", "South Asia", "Southeast Asia"]
        );
        let long = vec!["y".repeat(150)];
        assert!(
            region_choices(&long)
                .iter()
                .all(|c| c.chars().count() <= CHOICE_NAME_LIMIT),
            "no choice over Discord's 100 characters"
        );
    }

    #[test]
    fn edit_distance_counts_single_character_edits() {
        // Close matches are counted with `strsim::levenshtein`, in
        // characters, not bytes: an accent is one edit.
        assert_eq!(strsim::levenshtein("kitten", "sitting"), 3);
        assert_eq!(strsim::levenshtein("", "abc"), 3);
        assert_eq!(strsim::levenshtein("same", "same"), 0);
        assert_eq!(strsim::levenshtein("latin américa", "latin america"), 1);
    }
}
