//! More cases for [`super::asks_for_prayer`], in the shapes IJM bulletins
//! use: a praise that asks later in its text is prayable; thanks for
//! prayers already said, and reports of an earlier ask, are not.

use super::asks_for_prayer;

#[test]
fn praise_that_asks_later_in_the_text_asks() {
    for text in [
        "Praise God that a judge in Peru ruled for the family. The team worked for years. Please pray with us that the ruling stands.",
        "Justice was served in Manila. Join us in praising God for the verdict! Pray also for the survivors' healing.",
        "Praise God that 300 children in Chiang Rai received ID cards. Join us in thanking God and in praying that their lives will flourish.",
        "Praise God for a new police manual in Uganda. Pray for smooth roll-out of the training.",
        "Please join us in celebrating two verdicts in Guatemala. Pray that in the year ahead the courts keep ruling justly.",
        "Thank God for the rescue in Ghana. Let’s pray for the boys as they go home.",
        "We rejoice with the team in Kenya. Please continue to pray for the widows.",
        "Celebrate with us! Keep the survivors in your prayers this week.",
    ] {
        assert!(asks_for_prayer(text), "asks: {text}");
    }
}

#[test]
fn pure_thanks_does_not_ask() {
    for text in [
        "Last year we asked you to join our team in prayer for a new registry. God answered our prayers! The bill was approved. Thanks for praying with us!",
        "Praise God for last month's event in Northern Thailand, where 1,500 people gathered to celebrate and hear about the hope offered to them.",
        "Praise God that the court convicted the trafficker. Thank you for your prayers for this case.",
        "Last spring we asked you to pray for Maria. She is home now.",
        "The prayer-team in Lima celebrated the verdict with the family.",
    ] {
        assert!(!asks_for_prayer(text), "asks nothing: {text}");
    }
}

#[test]
fn only_whole_words_count() {
    assert!(!asks_for_prayer(
        "Praise God for the prayerful staff in Accra."
    ));
    assert!(!asks_for_prayer(
        "They were sprayed for pests in the dayspray fortnight."
    ));
    assert!(asks_for_prayer("PRAY FOR THE JUDGES."));
    assert!(asks_for_prayer(
        "“Pray,” the director wrote, “for the girls.”"
    ));
}
