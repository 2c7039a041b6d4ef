//! The buttons' custom ids: the one place that builds them and reads them
//! back, so a button on a message posted months ago still means what it
//! said. Pure.
//!
//! ```text
//! prayer:commit:{request}    I'll pray
//! prayer:prayed:{request}    Prayed
//! prayer:undo:{action}:{request}   Undo, on the private answer to a press
//! prayer:forget-me           the confirmation of /prayer forget-me
//! prayer:nudged:{guild}:{request}  Prayed, in a mid-week reminder (a DM,
//!                            which names no server of its own)
//! prayer:unpost:{week}:{admin}      /prayer unpost's Delete the posts
//! prayer:unpost-cancel:{admin}      /prayer unpost's Cancel
//! ```
//!
//! Discord allows 100 characters; the longest is well under 40.

use crate::bulletins::week::PrayerWeek;
use crate::ids::{GuildId, RequestId, UserId};

/// What a member says by pressing a request's button.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PrayerAction {
    /// **I'll pray**: a commitment.
    Commit,
    /// **Prayed**.
    Prayed,
}

impl PrayerAction {
    fn as_str(self) -> &'static str {
        match self {
            PrayerAction::Commit => "commit",
            PrayerAction::Prayed => "prayed",
        }
    }

    fn parse(text: &str) -> Option<Self> {
        match text {
            "commit" => Some(PrayerAction::Commit),
            "prayed" => Some(PrayerAction::Prayed),
            _ => None,
        }
    }
}

/// A button the bot made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Button {
    /// **I'll pray** or **Prayed** under a request.
    Request(PrayerAction, RequestId),
    /// **Undo** on the private answer to a press.
    Undo(PrayerAction, RequestId),
    /// The confirmation of `/prayer forget-me`.
    ForgetMe,
    /// **Prayed** in a mid-week reminder sent by direct message: it names
    /// the server, which a direct message does not.
    Nudged(GuildId, RequestId),
}

const PREFIX: &str = "prayer:";

impl Button {
    /// The custom id Discord carries back when it is pressed.
    pub fn custom_id(self) -> String {
        match self {
            Button::Request(action, request) => format!("{PREFIX}{}:{request}", action.as_str()),
            Button::Undo(action, request) => format!("{PREFIX}undo:{}:{request}", action.as_str()),
            Button::ForgetMe => format!("{PREFIX}forget-me"),
            Button::Nudged(guild, request) => format!("{PREFIX}nudged:{guild}:{request}"),
        }
    }

    /// The button a custom id names; `None` for anything the bot did not
    /// make (or made in a form it no longer reads).
    pub fn parse(custom_id: &str) -> Option<Button> {
        let rest = custom_id.strip_prefix(PREFIX)?;
        let request = |text: &str| text.parse::<RequestId>().ok();
        match rest.split(':').collect::<Vec<_>>().as_slice() {
            ["forget-me"] => Some(Button::ForgetMe),
            ["nudged", guild, id] => Some(Button::Nudged(
                GuildId::try_new(guild.parse().ok()?)?,
                request(id)?,
            )),
            ["undo", action, id] => Some(Button::Undo(PrayerAction::parse(action)?, request(id)?)),
            [action, id] => Some(Button::Request(PrayerAction::parse(action)?, request(id)?)),
            _ => None,
        }
    }
}

/// A button of an admin command's confirmation, which only the admin who
/// asked may press (the id names them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AdminButton {
    /// `/prayer unpost`'s **Delete the posts**.
    Unpost { week: PrayerWeek, admin: UserId },
    /// `/prayer unpost`'s **Cancel**.
    UnpostCancel { admin: UserId },
}

impl AdminButton {
    /// The custom id Discord carries back when it is pressed.
    pub fn custom_id(self) -> String {
        match self {
            AdminButton::Unpost { week, admin } => format!("{PREFIX}unpost:{week}:{admin}"),
            AdminButton::UnpostCancel { admin } => format!("{PREFIX}unpost-cancel:{admin}"),
        }
    }

    /// The admin who asked, the only one who may press it.
    pub fn admin(self) -> UserId {
        match self {
            AdminButton::Unpost { admin, .. } | AdminButton::UnpostCancel { admin } => admin,
        }
    }

    /// The button a custom id names; `None` for anything else.
    pub fn parse(custom_id: &str) -> Option<AdminButton> {
        let rest = custom_id.strip_prefix(PREFIX)?;
        let user = |text: &str| text.parse::<u64>().ok().and_then(UserId::try_new);
        match rest.split(':').collect::<Vec<_>>().as_slice() {
            ["unpost", week, admin] => Some(AdminButton::Unpost {
                week: week.parse().ok()?,
                admin: user(admin)?,
            }),
            ["unpost-cancel", admin] => Some(AdminButton::UnpostCancel {
                admin: user(admin)?,
            }),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[allow(unused_imports)]
    use crate::ids::RequestId;

    #[test]
    fn every_button_reads_back_as_the_button_it_was() {
        let request = RequestId::of::<{ i64::MAX }>();
        for button in [
            Button::Request(PrayerAction::Commit, request),
            Button::Request(PrayerAction::Prayed, RequestId::of::<{ -1 }>()),
            Button::Undo(PrayerAction::Commit, request),
            Button::Undo(PrayerAction::Prayed, request),
            Button::ForgetMe,
            Button::Nudged(GuildId::of::<{ u64::MAX }>(), request),
        ] {
            let id = button.custom_id();
            assert!(id.len() <= 100, "{id}");
            assert_eq!(Button::parse(&id), Some(button));
        }
    }

    #[test]
    fn admin_buttons_read_back_and_are_not_prayer_buttons() {
        let week: PrayerWeek = "2026-11-23".parse().expect("a week");
        let admin = UserId::of::<{ u64::MAX }>();
        for button in [
            AdminButton::Unpost { week, admin },
            AdminButton::UnpostCancel { admin },
        ] {
            let id = button.custom_id();
            assert!(id.len() <= 100, "{id}");
            assert_eq!(AdminButton::parse(&id), Some(button));
            assert_eq!(Button::parse(&id), None, "{id}");
            assert_eq!(button.admin(), admin);
        }
        for id in [
            "prayer:unpost:2026-11-24:5",
            "prayer:unpost:2026-11-23:0",
            "prayer:unpost:2026-11-23",
            "prayer:unpost-cancel:x",
            "prayer:forget-me",
        ] {
            assert_eq!(AdminButton::parse(id), None, "{id}");
        }
        assert_eq!(Button::parse("prayer:forget-me"), Some(Button::ForgetMe));
    }

    #[test]
    fn the_ids_on_posts_already_in_channels_still_read() {
        assert_eq!(
            Button::parse("prayer:commit:42"),
            Some(Button::Request(PrayerAction::Commit, RequestId::of::<42>()))
        );
        assert_eq!(
            Button::parse("prayer:prayed:7"),
            Some(Button::Request(PrayerAction::Prayed, RequestId::of::<7>()))
        );
    }

    #[test]
    fn ids_the_bot_did_not_make_are_not_buttons() {
        for id in [
            "",
            "prayer:",
            "prayer:commit:",
            "prayer:commit:x",
            "other:commit:1",
            "prayer:undo:commit",
            "prayer:shout:1",
            "prayer:commit:1:2",
            "prayer:nudged:0:1",
            "prayer:nudged:1",
        ] {
            assert_eq!(Button::parse(id), None, "{id}");
        }
    }
}
