//! A praise's messages that tell the members who prayed: the note, then
//! their mentions, spread over as many messages as Discord's limits need
//! (at most [`MENTION_LIMIT`] users and [`MESSAGE_LIMIT`] UTF-16 units a
//! message). Pure: plain text and ids in, messages out; no Discord here.

use std::collections::HashSet;

use crate::ids::UserId;
use crate::posting::render::{MESSAGE_LIMIT, discord_len, split_message};

/// Discord's limit on the users in one message's `allowed_mentions.users`.
pub const MENTION_LIMIT: usize = 100;

/// How a message that carries only more mentions begins.
pub const FOLLOWING_LEAD: &str = "Also praying: ";

/// One message to send: its content, and the users its
/// `allowed_mentions.users` must list, which are exactly the users
/// mentioned in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MentionMessage {
    pub content: String,
    pub users: Vec<UserId>,
}

/// The messages that post `first` (already rendered) and mention each of
/// `users` once, in their order (a user listed twice is mentioned once).
///
/// `first` begins the first message, split at sentences or words first if
/// it is longer than one message. The mentions follow it, separated by
/// spaces, on a line of their own; when none fits beside `first`, or a
/// message is full, they go on in following messages that begin with
/// [`FOLLOWING_LEAD`]. Every message is within [`MESSAGE_LIMIT`] and lists
/// at most [`MENTION_LIMIT`] users. With no users, one message: `first`.
///
/// Only the users listed are pinged, so a mention inside `first` (which
/// the caller should not write) would ping no one.
pub fn mention_messages(first: &str, users: &[UserId]) -> Vec<MentionMessage> {
    let mut pieces = if discord_len(first) > MESSAGE_LIMIT {
        split_message(first, MESSAGE_LIMIT)
    } else {
        vec![first.to_owned()]
    };
    // The note's last piece is where the mentions start.
    let last = pieces.pop().unwrap_or_default();
    let mut messages: Vec<MentionMessage> = pieces
        .into_iter()
        .map(|content| MentionMessage {
            content,
            users: Vec::new(),
        })
        .collect();

    let mut current = MentionMessage {
        content: last,
        users: Vec::new(),
    };
    let mut seen = HashSet::new();
    for &user in users {
        if !seen.insert(user) {
            continue;
        }
        let mention = format!("<@{user}>");
        let separator = gap_before_mention(&current);
        let fits = discord_len(&current.content) + discord_len(separator) + discord_len(&mention)
            <= MESSAGE_LIMIT;
        if !fits || current.users.len() >= MENTION_LIMIT {
            let full = std::mem::replace(
                &mut current,
                MentionMessage {
                    content: FOLLOWING_LEAD.to_owned(),
                    users: Vec::new(),
                },
            );
            messages.push(full);
        }
        let separator = gap_before_mention(&current);
        current.content.push_str(separator);
        current.content.push_str(&mention);
        current.users.push(user);
    }
    messages.push(current);
    messages
}

/// What goes before the next mention in `message`: nothing at the start
/// of a message or right after the lead, a line break after the note, a
/// space between mentions.
fn gap_before_mention(message: &MentionMessage) -> &'static str {
    if !message.users.is_empty() {
        " "
    } else if message.content.is_empty() || message.content == FOLLOWING_LEAD {
        ""
    } else {
        "\n"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[allow(unused_imports)]
    use crate::ids::UserId;
    use proptest::prelude::*;

    const NOTE: &str = "🙌 Praise: the court in Guatemala ruled for the children.";

    /// Distinct 19-digit ids, as Discord's are today.
    fn users(count: u64) -> Vec<UserId> {
        (0..count)
            .map(|i| UserId::try_new(1_234_567_890_123_456_000 + i).expect("ids are not 0"))
            .collect()
    }

    /// The users a message's content mentions, in order.
    fn mentioned(content: &str) -> Vec<UserId> {
        content
            .split("<@")
            .skip(1)
            .filter_map(|rest| rest.split_once('>'))
            .filter_map(|(id, _)| id.parse().ok())
            .map(UserId::new)
            .collect()
    }

    /// What must hold of any answer: each message within the limits, its
    /// content mentioning exactly its users, and every user once overall.
    fn assert_well_formed(first: &str, messages: &[MentionMessage], wanted: &[UserId]) {
        assert!(!messages.is_empty());
        for message in messages {
            assert!(discord_len(&message.content) <= MESSAGE_LIMIT);
            assert!(message.users.len() <= MENTION_LIMIT);
            assert_eq!(mentioned(&message.content), message.users);
        }
        let all: Vec<UserId> = messages.iter().flat_map(|m| m.users.clone()).collect();
        assert_eq!(all, wanted);
        let start: String = first.trim().chars().take(100).collect();
        assert!(messages[0].content.starts_with(&start));
    }

    #[test]
    fn with_no_one_to_tell_the_note_goes_alone() {
        let messages = mention_messages(NOTE, &[]);
        assert_eq!(
            messages,
            [MentionMessage {
                content: NOTE.to_owned(),
                users: vec![]
            }]
        );
    }

    #[test]
    fn one_member_is_mentioned_under_the_note() {
        let one = users(1);
        let messages = mention_messages(NOTE, &one);
        assert_eq!(
            messages,
            [MentionMessage {
                content: format!("{NOTE}\n<@1234567890123456000>"),
                users: one.clone(),
            }]
        );
    }

    #[test]
    fn a_hundred_members_are_all_mentioned_within_the_limits() {
        let wanted = users(100);
        let messages = mention_messages(NOTE, &wanted);
        assert_well_formed(NOTE, &messages, &wanted);
        // 100 mentions of 19-digit ids need more than one message's 2000.
        assert!(messages.len() >= 2);
        assert!(
            messages[1..]
                .iter()
                .all(|m| m.content.starts_with(FOLLOWING_LEAD))
        );
    }

    #[test]
    fn a_hundred_and_one_members_are_all_mentioned_within_the_limits() {
        let wanted = users(101);
        let messages = mention_messages(NOTE, &wanted);
        assert_well_formed(NOTE, &messages, &wanted);
    }

    #[test]
    fn two_hundred_and_fifty_members_are_all_mentioned_within_the_limits() {
        let wanted = users(250);
        let messages = mention_messages(NOTE, &wanted);
        assert_well_formed(NOTE, &messages, &wanted);
        assert_eq!(messages.len(), 3);
    }

    #[test]
    fn short_ids_are_still_at_most_a_hundred_a_message() {
        let wanted: Vec<UserId> = (1..=250).filter_map(UserId::try_new).collect();
        let messages = mention_messages("", &wanted);
        assert_well_formed("", &messages, &wanted);
        let counts: Vec<usize> = messages.iter().map(|m| m.users.len()).collect();
        assert_eq!(counts, [100, 100, 50]);
        assert!(messages[0].content.starts_with("<@1> <@2>"));
    }

    #[test]
    fn a_member_listed_twice_is_mentioned_once() {
        let one = users(3);
        let twice = [one[0], one[1], one[0], one[2], one[1]];
        let messages = mention_messages(NOTE, &twice);
        assert_well_formed(NOTE, &messages, &one);
    }

    #[test]
    fn a_note_with_no_room_beside_it_goes_alone_and_the_mentions_follow() {
        let note = "a".repeat(1_990);
        let wanted = users(3);
        let messages = mention_messages(&note, &wanted);
        assert_well_formed(&note, &messages, &wanted);
        assert_eq!(messages[0].content, note);
        assert!(messages[0].users.is_empty());
        assert_eq!(
            messages[1].content,
            "Also praying: <@1234567890123456000> <@1234567890123456001> <@1234567890123456002>"
        );
    }

    #[test]
    fn a_note_longer_than_a_message_is_split_before_the_mentions() {
        let note = "Praise God for the verdict. ".repeat(120);
        let wanted = users(5);
        let messages = mention_messages(&note, &wanted);
        assert_well_formed(&note, &messages, &wanted);
        assert!(messages[0].users.is_empty());
        let text: String = messages
            .iter()
            .map(|m| m.content.split("<@").next().unwrap_or(""))
            .collect::<Vec<_>>()
            .join(" ");
        assert_eq!(
            text.split_whitespace().count(),
            note.split_whitespace().count()
        );
    }

    #[test]
    fn a_note_of_only_spaces_longer_than_a_message_still_gives_a_message() {
        let wanted = users(2);
        let messages = mention_messages(&" ".repeat(2_500), &wanted);
        assert_well_formed("", &messages, &wanted);
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

        #[test]
        fn any_note_and_any_members_fit_the_limits(
            words in proptest::collection::vec("[a-zé🙏]{1,12}", 0..400),
            ids in proptest::collection::vec(any::<u64>(), 0..300),
        ) {
            let note = words.join(" ");
            let mut wanted = Vec::new();
            for id in ids.iter().map(|&id| UserId::try_new(id).expect("ids are not 0")) {
                if !wanted.contains(&id) {
                    wanted.push(id);
                }
            }
            let users: Vec<UserId> = ids.into_iter().filter_map(UserId::try_new).collect();
            let messages = mention_messages(&note, &users);
            assert_well_formed(&note, &messages, &wanted);
        }
    }
}
