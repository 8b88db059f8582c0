"""What must hold after the rehearsal, as pure functions of what was collected (run.py gathers
the facts from Locust, PostgreSQL, Redis and the fake Brevo; tests feed canned ones).

Each check returns {"name", "ok", "detail"}; the run fails when one is not ok.
"""

CONFIRMATION_PREFIX = "signup-confirmation:"


def accepted_have_accounts(accepted: list[str], accounts: set[str]) -> dict:
    missing = [email for email in accepted if email.lower() not in accounts]
    return {
        "name": "every 202 signup has its account",
        "ok": not missing,
        "detail": f"{len(accepted)} accepted, {len(missing)} without an account"
        + (f" (e.g. {missing[:3]})" if missing else ""),
    }


def one_confirmation_each(accounts: dict[str, int], brevo_keys: list[tuple[str, str]]) -> dict:
    """accounts: address -> user id; brevo_keys: (recipient, idempotency key) per message."""
    sent: dict[str, int] = {}
    for _recipient, key in brevo_keys:
        if key and key.startswith(CONFIRMATION_PREFIX):
            sent[key] = sent.get(key, 0) + 1
    none, several = [], []
    for email, pk in accounts.items():
        count = sent.get(f"{CONFIRMATION_PREFIX}{pk}", 0)
        if count == 0:
            none.append(email)
        elif count > 1:
            several.append(email)
    return {
        "name": "every account has exactly one confirmation email at Brevo",
        "ok": not none and not several,
        "detail": f"{len(accounts)} accounts: {len(none)} with none, {len(several)} with more "
        "than one" + (f" (e.g. {(none + several)[:3]})" if none or several else ""),
    }


def places_respected(overfull: list[tuple]) -> dict:
    """overfull: (mission id, places, active applications) of every mission over its places."""
    return {
        "name": "no mission has more active applications than places",
        "ok": not overfull,
        "detail": f"{len(overfull)} missions over their places"
        + (f": {overfull[:5]}" if overfull else ""),
    }


def server_errors_in_windows(bad: list, windows: list[dict]) -> dict:
    """bad: (t, endpoint, status) of every 5xx or connection error; windows: fault windows."""
    outside = [
        answer for answer in bad if not any(w["start"] <= answer[0] <= w["end"] for w in windows)
    ]
    by_window: dict[str, int] = {}
    for t, _, _ in bad:
        for w in windows:
            if w["start"] <= t <= w["end"]:
                by_window[w["name"]] = by_window.get(w["name"], 0) + 1
                break
    return {
        "name": "5xx (and refused connections) only inside fault windows",
        "ok": not outside,
        "detail": f"{len(bad)} in all, {len(outside)} outside the windows"
        + (f" (first: {outside[:5]})" if outside else "")
        + f"; per window: {by_window}",
    }


def backlog_drained(final: dict) -> dict:
    """final: the backlog figures once the load stopped and the drain ended."""
    left = {k: v for k, v in final.items() if v}
    return {
        "name": "the backlog drains to zero",
        "ok": not left and bool(final),
        "detail": f"left: {left}" if left else f"all zero: {sorted(final)}",
    }


def replica_served_reads(reads: dict) -> dict:
    """reads: {"replica"|"primary": {"scans", "mission_scans", "transactions"}} during the load.
    A replica that served nothing means the router never sent it a read: the topology would
    not be the one production runs."""
    replica, primary = reads["replica"], reads["primary"]
    share = replica["scans"] / max(replica["scans"] + primary["scans"], 1)
    return {
        "name": "the read replica served reads",
        "ok": replica["mission_scans"] > 0,
        "detail": f"table scans on the replica {replica['scans']}, on the primary "
        f"{primary['scans']} ({100 * share:.0f}% on the replica); missions table "
        f"{replica['mission_scans']} vs {primary['mission_scans']}",
    }


def check_all(facts: dict) -> list[dict]:
    checks = [
        accepted_have_accounts(facts["accepted"], set(facts["accounts"])),
        one_confirmation_each(facts["accounts"], facts["brevo_keys"]),
        places_respected(facts["overfull"]),
        server_errors_in_windows(facts["bad"], facts["windows"]),
        backlog_drained(facts["backlog"]),
    ]
    if "replica" in facts:  # the rehearsal always has one; canned runs may leave it out
        checks.append(replica_served_reads(facts["replica"]))
    return checks
