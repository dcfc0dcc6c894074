"""Look-alikes that came with the ``heldout2`` profile: who shares what in a household, twins
with one initial, strangers born on the same day with the same first name, renamed movers.

Why apart from gen_people.py and gen_relations.py: each hook runs only when its profile knob is
set (gen_profile.py), and draws its random numbers only then, so default and heldout data stay
byte-identical; here they read as what they model, not as branches inside the default generator.
(gen_relations.py calls these hooks, so it hands ``take_pairs`` in rather than being imported.)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from gen_contacts import emails
from gen_lists import EMAIL_DOMAIN_W, EMAIL_DOMAINS, ascii_fold, load_lists

#: Of family mailboxes ("mixed"): share named after one member (the rest after nobody).
NAMED_AFTER_ONE = 0.6


def same_initial_twins(
    p: pd.DataFrame, rng: np.random.Generator, a: np.ndarray, b: np.ndarray, share: float
) -> None:
    """A ``share`` of twin pairs (a, b) get first names with one initial (Jack and James).

    The second twin's name is redrawn from its own pool among the names with the first twin's
    initial (never the same name, another spelling or a nickname of it); a pool without such
    a name leaves the pair as it was."""
    lists = load_lists()
    fi = p["first_idx"].to_numpy()
    col = p.columns.get_loc("first_name")
    pick = rng.random(len(a)) < share
    for i, j in zip(a[pick], b[pick], strict=True):
        pool = lists.first_pools[(lists.first_origin[fi[j]], lists.first_gender[fi[j]])]
        ok = np.array([_siblings(lists, fi[i], k) for k in pool.idx])
        if not ok.any():
            continue
        w = pool.p[ok] / pool.p[ok].sum()
        fi[j] = pool.idx[ok][rng.choice(ok.sum(), p=w)]
        p.iat[j, col] = lists.first[fi[j]]
    p["first_idx"] = fi


def _siblings(lists: Any, a: int, b: int) -> bool:
    """Names two siblings could bear with one initial: not one name in two spellings or a
    nickname of the other (Stephen/Steven, Harold/Harry are no twins' names)."""
    x, y = lists.first[a], lists.first[b]
    return (
        x[:1] == y[:1]
        and x[:3].lower() != y[:3].lower()
        and y not in lists.nicknames[a]
        and x not in lists.nicknames[b]
    )


def birthday_namesakes(
    p: pd.DataFrame,
    rng: np.random.Generator,
    free: np.ndarray,
    share: float,
    take_pairs: Callable[..., tuple[np.ndarray, np.ndarray]],
) -> tuple[np.ndarray, np.ndarray]:
    """Unrelated pairs with the same first name (and gender) and date of birth, nothing else.

    At 1M members such pairs are common by chance; a few hundred thousand rows hold too few
    of them to test a rule on, so this places ``share`` of the people in such pairs."""
    a, b = take_pairs(rng, free, int(len(p) * share / 2))
    for c in ("first_name", "first_idx", "gender", "dob"):
        p.iloc[b, p.columns.get_loc(c)] = p[c].to_numpy()[a]
    return a, b


def _keys(names: np.ndarray) -> np.ndarray:
    return np.array(
        [
            ascii_fold(str(x)).lower().replace("'", "").replace(" ", "").replace("-", "")
            for x in names
        ],
        dtype=object,
    )


def family_mailboxes(p: pd.DataFrame, rng: np.random.Generator, share: float) -> np.ndarray:
    """A ``share`` of multi-person households use one new family mailbox; returns each person's
    own address before it was replaced ('' for everyone else).

    Named after one member, any of them ("junes@", "june.smith@", "junesmith4@"), or after
    nobody ("thesmiths@", "smithfamily@", "smith.family@", "thesmiths12@")."""
    household = p["household"].to_numpy()
    sizes = np.bincount(household, minlength=len(p))
    homes = np.flatnonzero(sizes >= 2)
    chosen = homes[rng.random(len(homes)) < share]
    members = np.flatnonzero(np.isin(household, chosen))
    order = members[np.argsort(household[members], kind="stable")]
    h = household[order]
    starts = np.flatnonzero(np.r_[True, h[1:] != h[:-1]])
    counts = np.diff(np.r_[starts, len(order)])
    who = order[starts + (rng.random(len(starts)) * counts).astype(np.int64)]
    fk, lk = _keys(p["first_name"].to_numpy()[who]), _keys(p["last_name"].to_numpy()[who])
    form = rng.integers(0, 4, len(who))
    named = rng.random(len(who)) < NAMED_AFTER_ONE
    num = rng.integers(1, 100, len(who))
    local = np.empty(len(who), dtype=object)
    for k in range(len(who)):
        f, s = fk[k], lk[k]
        if named[k]:
            local[k] = (f + s[:1], f + "." + s, f + s + str(num[k]), f + "." + s + ".home")[form[k]]
        else:
            local[k] = ("the" + s + "s", s + "family", s + ".family", f"the{s}s{num[k]}")[form[k]]
    domain = rng.choice(EMAIL_DOMAINS, size=len(who), p=EMAIL_DOMAIN_W / EMAIL_DOMAIN_W.sum())
    box = np.empty(len(p), dtype=object)
    box[h[starts]] = local + "@" + domain
    email = p["email"].to_numpy()
    own = np.full(len(p), "", dtype=object)
    own[members] = email[members]
    email[members] = box[household[members]]
    p["email"] = email
    return own


def renamed_moves(p: pd.DataFrame, rng: np.random.Generator, share: float) -> np.ndarray:
    """Households (by id) of a ``share`` of the renamed people: they moved when they married."""
    renamed = np.flatnonzero(p["maiden_name"].to_numpy() != "")
    pick = renamed[rng.random(len(renamed)) < share]
    moved = np.zeros(len(p), dtype=bool)
    moved[p["household"].to_numpy()[pick]] = True
    return moved


def after_history(
    p: pd.DataFrame,
    rng: np.random.Generator,
    own: np.ndarray | None,
    keep_own: float,
    moved: np.ndarray | None,
) -> None:
    """Old e-mails: a renamed mover's was under the maiden name; a family-mailbox member's own
    address still shows on some rows (a ``keep_own`` share of them, where no old one is set)."""
    old = p["old_email"].to_numpy()
    if moved is not None:
        renamed = (p["maiden_name"].to_numpy() != "") & moved[p["household"].to_numpy()]
        idx = np.flatnonzero(renamed)
        year = p["dob"].to_numpy()[idx].astype("datetime64[Y]").astype(int) + 1970
        old[idx] = emails(
            rng, p["first_name"].to_numpy()[idx], p["maiden_name"].to_numpy()[idx], year
        )
    if own is not None and keep_own > 0:
        keep = (own != "") & (old == "") & (rng.random(len(p)) < keep_own)
        old[keep] = own[keep]
    p["old_email"] = old
