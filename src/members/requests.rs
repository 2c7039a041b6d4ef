//! The use-cases of members' requests: adding one (checked, stored for
//! each week it runs, posted at once in this week's channel for its
//! region), withdrawing one (its author, or an admin), and erasing a
//! member's requests for forget-me. The Discord handlers only read the
//! options and reply with what these return.

use chrono::{DateTime, NaiveDate, Utc};

use super::{
    Author, GROUP_REGION, PER_WEEK_LIMIT, RequestError, checked_text, labelled, weeks,
    withdrawn_text,
};
use crate::bulletins::parse::{Kind, PrayerRequest};
use crate::bulletins::week::PrayerWeek;
use crate::ids::{ChannelId, GuildId, MessageId, RequestId, UserId};
use crate::posting::region::{match_region, region_choices};
use crate::posting::{EditedMessage, Messenger, PostError, SendError, post_request};
use crate::storage::{NewMemberRequest, Scope, StorageError, Store};

/// How far back the regions a member may name are read from.
const REGION_WEEKS: u32 = 8;

/// A member's request as they asked it.
#[derive(Debug, Clone, Copy)]
pub struct Ask<'a> {
    pub guild: GuildId,
    pub author: UserId,
    pub text: &'a str,
    pub region: Option<&'a str>,
    pub anonymous: bool,
    pub until: Option<&'a str>,
    /// Today in the server's time zone.
    pub today: NaiveDate,
    pub now: DateTime<Utc>,
}

/// Why a request was not added; each reads as written. Nothing was stored
/// or posted.
#[derive(Debug, thiserror::Error)]
pub enum AskError {
    #[error(transparent)]
    Rules(#[from] RequestError),
    #[error(
        "“{typed}” is not a region of this server's requests. {hint}Leave `region` out to ask under “{GROUP_REGION}”. Nothing was added."
    )]
    Region { typed: String, hint: String },
    #[error(
        "No channel is set up for the posts yet: an admin runs `/prayer setup channel:#channel` first. Nothing was added."
    )]
    NoChannel,
    #[error("Discord refused the post: {0}. Nothing was added; try again in a moment.")]
    Send(SendError),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// A request added and posted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Asked {
    /// This week's request.
    pub id: RequestId,
    /// The weeks it runs, this one first.
    pub weeks: Vec<PrayerWeek>,
    pub region: String,
    /// Where this week's request was posted.
    pub posts: Vec<(ChannelId, MessageId)>,
}

/// Adds and posts a member's request: see the module docs. Should Discord
/// refuse the post, the request is taken back out, so the member can
/// simply try again.
pub async fn ask(
    store: &Store,
    messenger: &impl Messenger,
    ask: &Ask<'_>,
) -> Result<Asked, AskError> {
    let text = checked_text(ask.text)?;
    let weeks = weeks(ask.today, ask.until)?;
    let region = region(store, ask).await?;
    let new = NewMemberRequest {
        guild: ask.guild,
        weeks: &weeks,
        region: &region,
        text,
        author: ask.author,
        anonymous: ask.anonymous,
        now: ask.now,
    };
    let Some(added) = store.add_member_request(&new, PER_WEEK_LIMIT).await? else {
        return Err(RequestError::TooMany.into());
    };
    let Some(&(week, id)) = added.first() else {
        return Err(RequestError::Empty.into());
    };
    let author = match ask.anonymous {
        true => Author::Anonymous,
        false => Author::Named(ask.author),
    };
    let request = PrayerRequest {
        region: region.clone(),
        kind: Kind::Petition,
        text: labelled(text, author),
        countries: Vec::new(),
    };
    let now = ask.now;
    match post_request(store, messenger, ask.guild, week, (id, &request), || now).await {
        Ok(posts) => Ok(Asked {
            id,
            weeks,
            region,
            posts,
        }),
        Err(error) => {
            store.delete_member_series(ask.guild, id).await?;
            Err(match error {
                PostError::NoChannel => AskError::NoChannel,
                PostError::Interrupted { reason, .. } => AskError::Send(reason),
                PostError::Storage(error) => AskError::Storage(error),
                other => AskError::Send(SendError::invalid(other.to_string())),
            })
        }
    }
}

/// The region the request goes under: one the server's requests already
/// use (any spelling of it), or the group's own when none is named.
async fn region(store: &Store, ask: &Ask<'_>) -> Result<String, AskError> {
    let Some(typed) = ask.region.map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(GROUP_REGION.to_owned());
    };
    let from = PrayerWeek::containing(ask.today).weeks_before(REGION_WEEKS);
    let mut seen = store.regions_from(Scope::Guild(ask.guild), from).await?;
    seen.push(GROUP_REGION.to_owned());
    match_region(&region_choices(&seen), typed).map_err(|unknown| AskError::Region {
        typed: crate::posting::render::shown_typed(typed),
        hint: match unknown.close.as_slice() {
            [] => String::new(),
            close => format!("Did you mean {}? ", close.join(" or ")),
        },
    })
}

/// A withdrawal: who asks for it, and whether they are an admin.
#[derive(Debug, Clone, Copy)]
pub struct Withdraw {
    pub guild: GuildId,
    pub user: UserId,
    pub is_admin: bool,
    pub request: RequestId,
    pub now: DateTime<Utc>,
}

/// Why a request was not withdrawn; nothing changed.
#[derive(Debug, thiserror::Error)]
pub enum WithdrawError {
    #[error(
        "That is not a member's request of this server: only requests added with `/prayer request add` can be withdrawn. Nothing changed."
    )]
    NotMembers,
    #[error("Only the member who asked, or an admin, can withdraw a request. Nothing changed.")]
    NotYours,
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// What a withdrawal did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Withdrawn {
    pub by_admin: bool,
    /// Posts edited to say so, and posts Discord would not let the bot edit.
    pub edited: usize,
    pub not_edited: usize,
}

/// Withdraws a member's request, every week it runs, and edits its posts
/// to say so (their buttons go). Its author may; an admin may remove any.
/// The prayers recorded on it stay.
pub async fn withdraw(
    store: &Store,
    messenger: &impl Messenger,
    withdraw: &Withdraw,
) -> Result<Withdrawn, WithdrawError> {
    let Some(found) = store
        .member_request(withdraw.guild, withdraw.request)
        .await?
    else {
        return Err(WithdrawError::NotMembers);
    };
    let own = found.author.is(withdraw.guild, withdraw.user);
    if !own && !withdraw.is_admin {
        return Err(WithdrawError::NotYours);
    }
    let by_admin = !own;
    let posts = store
        .withdraw_member_series(withdraw.guild, found.series, by_admin, withdraw.now)
        .await?;
    let (edited, not_edited) = edit_posts(messenger, &posts, withdrawn_text(by_admin)).await;
    Ok(Withdrawn {
        by_admin,
        edited,
        not_edited,
    })
}

/// Forget-me's part: deletes every request `user` asked in `guild` (with
/// the prayers recorded on them) and edits their posts to say they were
/// withdrawn. Returns how many posts were edited.
pub async fn forget_requests(
    store: &Store,
    messenger: &impl Messenger,
    guild: GuildId,
    user: UserId,
) -> Result<usize, StorageError> {
    let posts = store.erase_member_requests(guild, user).await?;
    Ok(edit_posts(messenger, &posts, withdrawn_text(false)).await.0)
}

/// Edits each of `posts` to `text`, without buttons; returns how many
/// Discord took and how many it refused (a deleted post, say).
async fn edit_posts(
    messenger: &impl Messenger,
    posts: &[(ChannelId, MessageId)],
    text: &str,
) -> (usize, usize) {
    let edit = EditedMessage {
        content: text.to_owned(),
        buttons_for: None,
    };
    let mut edited = 0;
    for &(channel, message) in posts {
        match messenger.edit(channel, message, &edit).await {
            Ok(()) => edited += 1,
            Err(error) => {
                tracing::warn!(%error, %channel, %message, "could not edit a withdrawn request's post")
            }
        }
    }
    (edited, posts.len() - edited)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::posting::scripted::Scripted;
    use crate::storage::fixtures::{GUILD, now, posted, store};

    const ANA: UserId = UserId::of::<11>();
    const BEN: UserId = UserId::of::<12>();

    fn asked(text: &str, anonymous: bool) -> Ask<'_> {
        Ask {
            guild: GUILD,
            author: ANA,
            text,
            region: None,
            anonymous,
            until: None,
            today: "2026-11-25".parse().expect("a date"),
            now: now(),
        }
    }

    async fn ready() -> Store {
        let store = store().await;
        posted(&store).await.expect("the week is posted");
        store
            .set_default_channel(GUILD, ChannelId::of::<42>(), now())
            .await
            .expect("a channel");
        store
    }

    #[tokio::test]
    async fn a_refused_post_takes_the_request_back_out() {
        let store = ready().await;
        let refusing = Scripted {
            refuse: Some(|_| true),
            ..Scripted::default()
        };
        let refused = ask(&store, &refusing, &asked("Pray for Ana.", false)).await;
        assert!(matches!(refused, Err(AskError::Send(_))), "{refused:?}");
        assert!(
            store
                .member_requests_by(GUILD, ANA)
                .await
                .expect("read")
                .is_empty()
        );
    }

    #[tokio::test]
    async fn an_admin_removes_any_request_a_member_only_their_own() {
        let store = ready().await;
        let messenger = Scripted::default();
        let added = ask(&store, &messenger, &asked("Pray for Ana.", true))
            .await
            .expect("added");
        let by = |user, is_admin| Withdraw {
            guild: GUILD,
            user,
            is_admin,
            request: added.id,
            now: now(),
        };
        let refused = withdraw(&store, &messenger, &by(BEN, false)).await;
        assert!(
            matches!(refused, Err(WithdrawError::NotYours)),
            "{refused:?}"
        );
        let removed = withdraw(&store, &messenger, &by(BEN, true))
            .await
            .expect("removed");
        assert!(removed.by_admin && removed.edited == 1, "{removed:?}");
        let edits = messenger.edits.lock().expect("edits").clone();
        assert_eq!(edits[0].2.content, withdrawn_text(true));
        assert_eq!(edits[0].2.buttons_for, None);
        // A bulletin request is not a member's to withdraw.
        let week = store
            .week(
                crate::storage::Scope::Guild(GUILD),
                "2026-11-23".parse().expect("a week"),
            )
            .await
            .expect("read")
            .expect("the week");
        let bulletin = Withdraw {
            request: week.request_ids[0],
            ..by(ANA, true)
        };
        let refused = withdraw(&store, &messenger, &bulletin).await;
        assert!(
            matches!(refused, Err(WithdrawError::NotMembers)),
            "{refused:?}"
        );
    }

    #[tokio::test]
    async fn forget_me_deletes_the_members_requests_and_edits_their_posts() {
        let store = ready().await;
        let messenger = Scripted::default();
        let added = ask(&store, &messenger, &asked("Pray for Ana.", true))
            .await
            .expect("added");
        let edited = forget_requests(&store, &messenger, GUILD, ANA)
            .await
            .expect("forgotten");
        assert_eq!(edited, 1);
        assert!(
            store
                .member_request(GUILD, added.id)
                .await
                .expect("read")
                .is_none()
        );
        assert!(
            store
                .guild_request(GUILD, added.id)
                .await
                .expect("read")
                .is_none()
        );
    }
}
