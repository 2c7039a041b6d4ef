//! Countries named in a request, and the region each belongs to. Pure; no I/O.
//!
//! Every name, alias and demonym (`Guatemalan courts` names Guatemala) is
//! found with an anchored Aho-Corasick search at each capitalised word,
//! longest match first, so `Niger` is not found in `Nigeria`, nor `Guinea`
//! in `Papua New Guinea`. Every pattern starts with a capital, which is what
//! lets the search skip the rest of the text.

use std::sync::LazyLock;

use aho_corasick::{AhoCorasick, AhoCorasickKind, Anchored, Input, MatchKind, StartKind};

/// `canonical name | region | other spellings and demonyms, `;`-separated`.
/// Regions follow the way prayer bulletins group the world.
const TABLE: &str = "\
Algeria|Africa|Algerian
Angola|Africa|Angolan
Benin|Africa|Beninese
Botswana|Africa|
Burkina Faso|Africa|
Burundi|Africa|Burundian
Cameroon|Africa|Cameroonian
Cape Verde|Africa|Cabo Verde
Central African Republic|Africa|
Chad|Africa|Chadian
Comoros|Africa|
Democratic Republic of the Congo|Africa|DRC;DR Congo;Congo;Congolese
Djibouti|Africa|
Egypt|Africa|Egyptian
Equatorial Guinea|Africa|
Eritrea|Africa|Eritrean
Eswatini|Africa|Swaziland
Ethiopia|Africa|Ethiopian
Gabon|Africa|
Gambia|Africa|Gambian
Ghana|Africa|Ghanaian
Guinea|Africa|
Guinea-Bissau|Africa|
Ivory Coast|Africa|Côte d'Ivoire;Cote d'Ivoire;Ivorian
Kenya|Africa|Kenyan
Lesotho|Africa|
Liberia|Africa|Liberian
Libya|Africa|Libyan
Madagascar|Africa|Malagasy
Malawi|Africa|Malawian
Mali|Africa|Malian
Mauritania|Africa|Mauritanian
Mauritius|Africa|
Morocco|Africa|Moroccan
Mozambique|Africa|Mozambican
Namibia|Africa|Namibian
Niger|Africa|
Nigeria|Africa|Nigerian
Rwanda|Africa|Rwandan
Senegal|Africa|Senegalese
Sierra Leone|Africa|
Somalia|Africa|Somali
South Africa|Africa|South African
South Sudan|Africa|
Sudan|Africa|Sudanese
Tanzania|Africa|Tanzanian
Togo|Africa|
Tunisia|Africa|Tunisian
Uganda|Africa|Ugandan
Zambia|Africa|Zambian
Zimbabwe|Africa|Zimbabwean
Argentina|Latin America|Argentine;Argentinian
Belize|Latin America|
Bolivia|Latin America|Bolivian
Brazil|Latin America|Brazilian
Chile|Latin America|Chilean
Colombia|Latin America|Colombian
Costa Rica|Latin America|Costa Rican
Cuba|Latin America|Cuban
Dominican Republic|Latin America|
Ecuador|Latin America|Ecuadorian
El Salvador|Latin America|Salvadoran
Guatemala|Latin America|Guatemalan
Haiti|Latin America|Haitian
Honduras|Latin America|Honduran
Jamaica|Latin America|Jamaican
Mexico|Latin America|Mexican
Nicaragua|Latin America|Nicaraguan
Panama|Latin America|Panamanian
Paraguay|Latin America|Paraguayan
Peru|Latin America|Peruvian
Uruguay|Latin America|Uruguayan
Venezuela|Latin America|Venezuelan
Canada|North America|Canadian
United States|North America|U.S.;U.S.A.;USA;United States of America
Afghanistan|South Asia|Afghan
Bangladesh|South Asia|Bangladeshi
Bhutan|South Asia|
India|South Asia|Indian
Maldives|South Asia|
Nepal|South Asia|Nepali;Nepalese
Pakistan|South Asia|Pakistani
Sri Lanka|South Asia|Sri Lankan
Brunei|Southeast Asia|
Cambodia|Southeast Asia|Cambodian
Indonesia|Southeast Asia|Indonesian
Laos|Southeast Asia|Lao
Malaysia|Southeast Asia|Malaysian
Myanmar|Southeast Asia|Burma;Burmese
Philippines|Southeast Asia|Philippine;Filipino;Filipina
Singapore|Southeast Asia|
Thailand|Southeast Asia|Thai
Timor-Leste|Southeast Asia|East Timor
Vietnam|Southeast Asia|Viet Nam;Vietnamese
China|East Asia|Chinese
Japan|East Asia|Japanese
Mongolia|East Asia|Mongolian
North Korea|East Asia|
South Korea|East Asia|
Taiwan|East Asia|Taiwanese
Kazakhstan|Central Asia|
Kyrgyzstan|Central Asia|
Tajikistan|Central Asia|
Turkmenistan|Central Asia|
Uzbekistan|Central Asia|
Bahrain|Middle East|
Iran|Middle East|Iranian
Iraq|Middle East|Iraqi
Israel|Middle East|Israeli
Jordan|Middle East|Jordanian
Kuwait|Middle East|
Lebanon|Middle East|Lebanese
Oman|Middle East|
Qatar|Middle East|
Saudi Arabia|Middle East|Saudi
Syria|Middle East|Syrian
Turkey|Middle East|Türkiye
United Arab Emirates|Middle East|UAE
Yemen|Middle East|Yemeni
Albania|Europe|
Austria|Europe|Austrian
Belgium|Europe|Belgian
Bulgaria|Europe|Bulgarian
Croatia|Europe|
Czech Republic|Europe|Czechia
Denmark|Europe|Danish
Finland|Europe|Finnish
France|Europe|French
Germany|Europe|German
Greece|Europe|Greek
Hungary|Europe|Hungarian
Ireland|Europe|Irish
Italy|Europe|Italian
Moldova|Europe|Moldovan
Netherlands|Europe|Dutch
Norway|Europe|Norwegian
Poland|Europe|Polish
Portugal|Europe|Portuguese
Romania|Europe|Romanian
Russia|Europe|Russian
Serbia|Europe|Serbian
Spain|Europe|Spanish
Sweden|Europe|Swedish
Switzerland|Europe|Swiss
Ukraine|Europe|Ukrainian
United Kingdom|Europe|U.K.;UK;Britain;Great Britain;England;Scotland;Wales
Australia|Asia Pacific|Australian
Fiji|Asia Pacific|
New Zealand|Asia Pacific|
Papua New Guinea|Asia Pacific|";

struct Country {
    name: &'static str,
    region: &'static str,
}

struct Matcher {
    automaton: AhoCorasick,
    /// For each pattern of the automaton, the country it names.
    country_of_pattern: Vec<usize>,
    countries: Vec<Country>,
}

static MATCHER: LazyLock<Matcher> = LazyLock::new(|| {
    let mut countries = Vec::new();
    let mut patterns = Vec::new();
    let mut country_of_pattern = Vec::new();
    for line in TABLE.lines() {
        let mut fields = line.split('|');
        let (Some(name), Some(region), Some(aliases)) =
            (fields.next(), fields.next(), fields.next())
        else {
            unreachable!("every row of the country table has three fields: {line}");
        };
        let index = countries.len();
        countries.push(Country { name, region });
        for pattern in std::iter::once(name).chain(aliases.split(';').filter(|a| !a.is_empty())) {
            patterns.push(pattern);
            country_of_pattern.push(index);
        }
    }
    let automaton = AhoCorasick::builder()
        .match_kind(MatchKind::LeftmostLongest)
        .start_kind(StartKind::Anchored)
        // A few hundred names make a small DFA, the fastest to search.
        .kind(Some(AhoCorasickKind::DFA))
        .build(&patterns)
        .unwrap_or_else(|error| unreachable!("the country table builds an automaton: {error}"));
    Matcher {
        automaton,
        country_of_pattern,
        countries,
    }
});

/// The countries a text names, each once, in the order they first appear.
pub fn countries_in(text: &str) -> Vec<String> {
    let matcher = &*MATCHER;
    let bytes = text.as_bytes();
    let mut found: Vec<usize> = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let starts_word = bytes[i].is_ascii_uppercase()
            && !text[..i]
                .chars()
                .next_back()
                .is_some_and(char::is_alphanumeric);
        if !starts_word {
            i += 1;
            continue;
        }
        let input = Input::new(text).range(i..).anchored(Anchored::Yes);
        match matcher.automaton.find(input) {
            Some(m)
                if !text[m.end()..]
                    .chars()
                    .next()
                    .is_some_and(char::is_alphanumeric) =>
            {
                let country = matcher.country_of_pattern[m.pattern().as_usize()];
                if !found.contains(&country) {
                    found.push(country);
                }
                i = m.end();
            }
            _ => i += 1,
        }
    }
    found
        .into_iter()
        .map(|i| matcher.countries[i].name.to_owned())
        .collect()
}

/// The region a country belongs to, by its canonical name.
pub fn region_of(country: &str) -> Option<&'static str> {
    MATCHER
        .countries
        .iter()
        .find(|c| c.name == country)
        .map(|c| c.region)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_aliases_and_demonyms_are_found_once_in_order() {
        assert_eq!(
            countries_in("Guatemalan courts ruled; Kenya and the U.K. and Guatemala again."),
            ["Guatemala", "Kenya", "United Kingdom"]
        );
    }

    #[test]
    fn a_country_inside_a_longer_word_is_not_found() {
        assert!(countries_in("a woman in Nigeria").contains(&"Nigeria".to_owned()));
        assert_eq!(countries_in("a woman in Nigeria"), ["Nigeria"]);
        assert!(countries_in("Latin American partners").is_empty());
    }

    #[test]
    fn every_pattern_starts_with_a_capital_as_the_search_needs() {
        for line in TABLE.lines() {
            let mut fields = line.split('|');
            let name = fields.next().unwrap_or_default();
            let aliases = fields.nth(1).unwrap_or_default();
            for pattern in std::iter::once(name).chain(aliases.split(';').filter(|a| !a.is_empty()))
            {
                assert!(
                    pattern.starts_with(|c: char| c.is_ascii_uppercase()),
                    "{pattern}"
                );
            }
        }
    }

    #[test]
    fn a_longer_name_hides_the_shorter_one_inside_it() {
        assert_eq!(
            countries_in("Papua New Guinea and South Sudan"),
            ["Papua New Guinea", "South Sudan"]
        );
        assert_eq!(
            countries_in("in the Philippines, Kenya's courts"),
            ["Philippines", "Kenya"]
        );
    }

    #[test]
    fn every_country_has_a_region() {
        assert_eq!(region_of("Kenya"), Some("Africa"));
        assert_eq!(region_of("Ghana"), Some("Africa"));
        assert_eq!(region_of("Bolivia"), Some("Latin America"));
        assert_eq!(region_of("Atlantis"), None);
    }
}
