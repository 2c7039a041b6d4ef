//! Countries named in a request, and the region each belongs to. Pure; no I/O.
//!
//! One Aho-Corasick pass over a request finds every name, alias and demonym
//! (`Guatemalan courts` names Guatemala); a match counts only on word
//! boundaries, so `Oman` is not found in `woman` nor `Niger` in `Nigeria`.

use std::sync::LazyLock;

use aho_corasick::{AhoCorasick, MatchKind};

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
Philippines|Southeast Asia|the Philippines;Philippine;Filipino;Filipina
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
Netherlands|Europe|the Netherlands;Dutch
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
    let mut found: Vec<usize> = Vec::new();
    for m in matcher.automaton.find_iter(text) {
        if !on_word_boundaries(text, m.start(), m.end()) {
            continue;
        }
        let country = matcher.country_of_pattern[m.pattern().as_usize()];
        if !found.contains(&country) {
            found.push(country);
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

fn on_word_boundaries(text: &str, start: usize, end: usize) -> bool {
    let before = text[..start].chars().next_back();
    let after = text[end..].chars().next();
    // A possessive (`Kenya's`) still names the country; any other letter or
    // digit means the name is part of a longer word.
    !before.is_some_and(char::is_alphanumeric) && !after.is_some_and(char::is_alphanumeric)
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
    fn every_country_has_a_region() {
        assert_eq!(region_of("Kenya"), Some("Africa"));
        assert_eq!(region_of("Ghana"), Some("Africa"));
        assert_eq!(region_of("Bolivia"), Some("Latin America"));
        assert_eq!(region_of("Atlantis"), None);
    }
}
