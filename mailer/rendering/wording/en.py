"""English: the reference wording of the pages and mails a subscriber sees outside an edition.

Every other language's module has exactly these keys, with the same `{name}` fields
(tests/rendering/test_wording.py checks). Words an edition already has (Unsubscribe, Past
issues, PDF edition…) are not repeated here: pages take them from rendering/chrome.py.
"""

from __future__ import annotations

WORDS: dict[str, str] = {
    # The layout of every public page (templates/web/base.html.j2, message.html.j2)
    "skip_to_content": "Skip to content",
    "archive_of_past_issues": "Archive of past issues",
    "needs_attention": "Something needs your attention",
    "read_past_issues": "Read past issues",
    # The unsubscribe page and the preference centre (unsubscribe.html.j2)
    "unsubscribe_from_title": "Unsubscribe from {list}",
    "nothing_left_heading": "There is nothing left to unsubscribe",
    "nothing_left_text": "This address has already been removed from our records, so you will "
    "receive nothing more from us.",
    "already_unsubscribed": "You are already unsubscribed",
    "no_longer_receives": "{email} no longer receives {list}.",
    "changed_your_mind": "Changed your mind?",
    "subscribe_again": "Subscribe again",
    "we_ask_to_confirm": "— we will ask you to confirm by email.",
    "unsubscribe_from_question": "Unsubscribe from {list}?",
    "about_to_stop": "You are about to stop {list} being sent to",
    "opened_from_issue": "You opened this page from the issue of {date}: {title}.",
    "change_preferences_instead": "Change preferences instead",
    "your_preferences": "Your preferences",
    "keep_receiving": "Keep receiving",
    "untick_to_stop": "Untick a newsletter to stop receiving it.",
    "subscribed_to_none": "You are not subscribed to any of our newsletters at the moment.",
    "preferred_language": "Preferred language",
    "no_preference": "No preference",
    "link_tracking": "Link tracking",
    "tracking_consent": "Let {firm} see which links of an issue I follow (the issue's author "
    "uses it to follow up)",
    "everything": "Everything",
    "stop_all": "Stop all email from {firm}",
    "save_preferences": "Save preferences",
    # What saving the preferences changed (preferences_saved.html.j2)
    "preferences": "Preferences",
    "preferences_saved": "Preferences saved",
    "preferences_are_saved": "Your preferences are saved",
    "back_to_preferences": "Back to your preferences",
    "choose_a_language": "Please choose a language.",
    "no_more_email": "You will receive no more email from us.",
    "unsubscribed_from": "Unsubscribed from {list}",
    "language_set": "Language set to {language}.",
    "language_removed": "Language preference removed.",
    "tracking_on": "Link tracking turned on.",
    "tracking_off": "Your clicks will not be tracked.",
    "nothing_changed": "Nothing needed changing.",
    # After unsubscribing (unsubscribed.html.j2)
    "unsubscribed": "Unsubscribed",
    "you_are_unsubscribed": "You are unsubscribed",
    "will_no_longer_receive": "{email} will no longer receive {list}.",
    "you_will_no_longer_receive": "You will no longer receive {list}.",
    "issue_on_its_way": "An issue already on its way may still reach you in the next few minutes.",
    "manage_other_preferences": "Manage other preferences",
    "unsubscribed_by_mistake": "Unsubscribed by mistake? Subscribe again",
    # The archive index (archive.html.j2)
    "archive": "Archive",
    "read_online": "Read online",
    "nothing_published": "No issue has been published yet.",
    # The double opt-in's landing pages (confirm.html.j2, confirmed.html.j2)
    "confirm": "Confirm",
    "already_subscribed": "You are already subscribed",
    "already_receives": "{email} receives {list}. There is nothing more to do.",
    "confirm_your_subscription": "Confirm your subscription",
    "start_sending": "Start sending {list} to {email}?",
    "yes_subscribe_me": "Yes, subscribe me",
    "did_not_ask": "If you did not ask for this, close this page: nothing will be sent.",
    "welcome": "Welcome",
    "subscription_confirmed": "Subscription confirmed",
    "you_are_subscribed": "You are subscribed",
    "will_receive_from_next": "{email} will receive {list} from the next issue on.",
    # The subscribe form and its answer (subscribe.html.j2, check_inbox.html.j2)
    "subscribe_to_title": "Subscribe to {list}",
    "subscribe_lede": "{list} by email, from {firm}. We send one email first to confirm your "
    "address; every issue has a link to unsubscribe at once.",
    "email_address": "Email address",
    "your_name": "Name",
    "optional": "(optional)",
    "leave_empty": "Leave this field empty",
    "pow_note": "This form checks your browser before it is sent; it needs JavaScript.",
    "subscribe_note": "We will email you a link to confirm. Nothing is sent until you do, and "
    "every issue has a one-click unsubscribe link.",
    "enter_email": "Please enter your email address.",
    "not_an_email": "This does not look like an email address: {problem}",
    "shorten_name": "Please shorten your name to {limit} characters.",
    "pow_unfinished": "Your browser has not finished its check yet (it needs JavaScript). Wait "
    "until the button is enabled, then send the form again.",
    "one_more_step": "One more step",
    "check_your_inbox": "Check your inbox",
    "confirmation_on_its_way": "If {email} can receive our mail, a message asking you to "
    "confirm your subscription to {list} is on its way.",
    "open_and_follow": "Open it and follow the link to start receiving the briefing. The link "
    "is valid for seven days.",
    "look_in_spam": "Nothing there after a few minutes? Look in your spam or promotions folder.",
    "back_to_form": "Back to the form",
    # The confirmation email (templates/confirm/)
    "mail_subject": "Please confirm your subscription to {list}",
    "mail_title": "Confirm your subscription to {list}",
    "mail_preview": "One click to confirm: we will not send {list} until you do.",
    "mail_heading": "Please confirm your subscription",
    "mail_hello_name": "Hello {name},",
    "mail_hello": "Hello,",
    "mail_someone_asked": "Someone — we hope you — asked to receive {list} from {firm} at "
    "{email}. We will not send you anything until you confirm.",
    "mail_someone_asked_text": "Someone (we hope you) asked to receive {list} from {firm} at "
    "{email}. We will not send you anything until you confirm.",
    "mail_button": "Confirm my subscription",
    "mail_paste_link": "Or paste this link into your browser:",
    "mail_open_link": "Confirm your subscription by opening this link:",
    "mail_valid_for": "The link is valid for {days} days. If you did not ask for this, ignore "
    "this email: you will not be subscribed and will hear nothing more from us.",
    "mail_past_issues": "Past issues:",
}

# Error pages a reader can reach: a heading, then the paragraphs under it.
ERRORS: dict[str, tuple[str, ...]] = {
    "bad_link": (
        "This link is not valid",
        "The address you opened is incomplete or has been changed — perhaps it was split across "
        "two lines in your email. Please open the unsubscribe link from the email again, or use "
        "“Unsubscribe” at the bottom of any issue.",
    ),
    "unknown_link": (
        "We could not find this message",
        "This link does not belong to any message we sent. If you want to stop receiving our "
        "briefing, use the unsubscribe link at the bottom of a recent issue, or reply to it and "
        "we will take care of it.",
    ),
    "test_copy_link": (
        "This link is from a test copy",
        "Nothing was changed. A [TEST] copy goes to the addresses it was sent to, outside any "
        "list, so its unsubscribe link belongs to no subscription.",
        "In the issue as a list receives it, this link opens the reader's own page: which list "
        "they are leaving, one button to confirm, and their preferences (other lists, language, "
        "tracking).",
    ),
    "not_one_click": (
        "Nothing was changed",
        "This request did not ask to unsubscribe. Use the button on the unsubscribe page.",
    ),
    "erased": (
        "There is nothing left to change",
        "This address was removed from our records at your request.",
    ),
    "other_origin": (
        "Please use the form on our page",
        "Your preferences can only be changed from the preferences page itself. Open the link "
        "from your email again.",
    ),
    "not_our_form": ("Nothing was changed", "Please use the form on the preferences page."),
    "too_large": ("That request is too large", "Please use the form on this page."),
    "unreadable_form": ("We could not read that form", "Please go back and try again."),
    "bad_tracked_link": (
        "This link does not work",
        "The address you opened is incomplete or was changed — perhaps it was split across two "
        "lines in your email. Please open the link from the email again.",
    ),
    "issue_not_found": (
        "We could not find that issue",
        "It may not have been published yet. Here are the issues we have sent.",
    ),
    "list_not_found": (
        "We could not find that newsletter",
        "The subscription page you opened does not exist. Check the address, or read our past "
        "issues below.",
    ),
    "bad_confirm": (
        "This confirmation link is not valid",
        "The address you opened is incomplete or has been changed — perhaps it was split across "
        "two lines in your email. Please copy the whole link from the email, or subscribe again "
        "to get a new one.",
    ),
    "expired_confirm": (
        "This confirmation link has expired",
        "Confirmation links are valid for {days} days. Please subscribe again and we will send "
        "you a new one.",
    ),
    "subscription_not_found": (
        "We could not find this subscription",
        "It may have been removed. Please subscribe again.",
    ),
    "superseded_confirm": (
        "This confirmation link is no longer valid",
        "You unsubscribed after this link was sent. To subscribe again, use the subscription "
        "form and confirm the new email.",
    ),
    "cannot_subscribe": (
        "This address cannot be subscribed",
        "Please contact us by replying to any of our emails.",
    ),
    "closed_list": (
        "This newsletter no longer takes subscriptions",
        "It is no longer open to subscription from our website, so this confirmation link "
        "cannot be used and you have not been subscribed. If you think you should receive it, "
        "please contact us.",
    ),
    "too_many_attempts": (
        "Too many attempts",
        "We received several subscription requests from your network in a short time. Please "
        "try again in {seconds} seconds.",
    ),
    "confirmations_paused": (
        "Please try again later",
        "We are receiving an unusual number of subscription requests right now, so we have "
        "paused sending confirmation emails. Nothing was sent to you. Please try again in about "
        "an hour.",
    ),
}
