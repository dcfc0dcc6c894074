"""British given-name variants: formal names and the short forms members actually use.

Why hand-kept: the `nicknames` package misses common British forms (Kath, Gill, Nell, Liam…)
and brings a US genealogy bias. Each line is one given name (its first word, the formal name)
with the forms one person called that may use; a short form may stand on several lines (Chris
for Christopher and Christine, Nat for Nathan and Natalie).

Two names are nicknames of each other only when they share a line (``same_person_names``): the
relation is not transitive, so Christine and Christopher, Nicola and Nicholas, Daniel and
Danielle stay different names although Chris, Nicky and Dani join each to the other. Blocking
uses the wider transitive ``nickname_group`` (a candidate pair is not a link).
"""

from __future__ import annotations

_FAMILIES = """
alexander alex alec sandy xander lex aleksander olek
alexandra alex alexa sandy sandra lexi aleksandra ola sasha
andrew andy drew andi
anthony tony antony
benjamin ben benny benji
charles charlie chas chuck
charlotte charlie lottie
christopher chris kit chrissy
christine chris chrissy chrissie tina
christina chris chrissy tina kristina
daniel dan danny dani
danielle dani dan
david dave davy davey
edward ed eddie ted teddy ned
edwin ed eddie
edmund ed eddie ned
elizabeth liz lizzie beth betty bess bessie eliza elise libby lisa elspeth lilibet
eleanor ellie nell nellie ella elle elaine
helen helena nell nellie ellie
frederick fred freddie
freda fred
gillian gill jill jillian
gregory greg
gareth gaz
gary gaz
william bill
harriet hattie
hugh hughie
kieran kier
henry harry hal hank
jacob jake jack
james jim jimmy jamie jimbo
jennifer jen jenny jenni
john jon johnny jack
jonathan jon jonny johnny
joseph joe joey jo
josephine jo josie
joanne jo joanna joan
katherine kathryn catherine kath kathy cath cathy kate katie kat kitty kay kathleen caitlin
kenneth ken kenny
lawrence laurence larry laurie
margaret maggie meg peggy marge margie greta rita maisie
matthew matt matty mathew
michael mike mick micky mickey mikey mickie
nicholas nick nicky
nicola nicky nikki nicole
patrick pat paddy
patricia pat trish tricia patsy
peter pete
philip phil phillip pip
rebecca becky becca bex
richard rich rick ricky dick richie
robert rob robbie bob bobby bert bertie
roberta bobbie robbie
ronald ron ronnie
samuel sam sammy
samantha sam sammy
stephen steven steve stevie steph
stephanie steph stevie
susan sue susie suzanne susanna
thomas tom tommy
timothy tim timmy
victoria vicky vic vikki tori
william will bill billy liam willie wills
zachary zach zack
abigail abbie abby gail
albert al bert albie
alfred alf alfie
amanda mandy
angela angie
anne ann annie anna nan nancy
hannah han
barbara barb babs
bernard bernie
caroline carol carrie carolyn
cynthia cindy
deborah debbie deb debra
dorothy dot dottie dolly
douglas doug dougie
emily em emmy emmie
emma em emmy
gerald gerry jerry
geraldine gerry
geoffrey geoff jeff jeffrey
gordon gordy
isabel isabella izzy bella isobel
jacqueline jackie jacqui
janet jan janice
jessica jess jessie
judith judy jude
kimberley kim kimberly
leonard len lenny leo
louise lou louisa lulu
lucy lucinda lu
madeleine maddie madeline madison
malcolm mal
mary molly polly mae marie maria
megan meg
mohammed muhammad mohammad mohamed muhammed mo
maureen mo
nathan nate nathaniel nat
natalie nat
natasha tash nat
norman norm
oliver ollie olly
olivia liv livvy ollie
pamela pam
penelope penny
raymond ray
rosemary rose rosie rosalind roz
sarah sara sally sadie
sebastian seb
simon si
stanley stan
terence terry
teresa theresa tess tessa terri terry
theodore theo ted
valerie val
vincent vince vinnie
walter walt wally
wendy gwendolyn gwen
harold harry hal
alan al
diane di dianne diana
fiona fi
michelle shell shelley
christine chrissie
amelia millie
annabel bella
philippa pippa
alexandra sasha
caroline caz
bernadette bernie
francesca frankie fran
frances fran frankie franny
francis frank frankie fran
deirdre dee
sharon shaz
arthur artie art
barry baz
darren daz
martin marty
derek del
dafydd dai dewi dave
tomos twm tom
padraig paddy
alasdair alistair alastair ali
angus gus
ruaridh ruairidh rory
lachlan lachie
agnieszka aga
katarzyna kasia
malgorzata gosia
joanna asia
zofia zosia
tomasz tomek
wojciech wojtek
jakub kuba
beatriz bia
giuseppe beppe peppe
chiamaka amaka
abimbola bimbo
yetunde yeti
chukwuemeka emeka
oluwaseun seun
adebayo bayo
babatunde tunde
olumide mide
"""


#: The table's lines, parsed once: a given name first, then the forms it goes by.
_LINES: tuple[tuple[str, ...], ...] = tuple(
    tuple(line.split()) for line in _FAMILIES.strip().splitlines()
)


def _build() -> dict[str, str]:
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        while parent.setdefault(x, x) != x:
            x = parent[x]
        return x

    for names in _LINES:
        root = find(names[0])
        for n in names[1:]:
            r = find(n)
            if r != root:
                parent[max(r, root)] = min(r, root)
                root = min(r, root)
    return {n: find(n) for n in parent}


_GROUP = _build()
#: Per name: the lines (given names) it stands on, and the names sharing a line with it.
_LINES_OF: dict[str, frozenset[int]] = {}
for _k, _line in enumerate(_LINES):
    for _name in _line:
        _LINES_OF[_name] = _LINES_OF.get(_name, frozenset()) | {_k}
_FORMAL = tuple(line[0] for line in _LINES)
_KIN: dict[str, tuple[str, ...]] = {
    _name: tuple(sorted({m for k in ks for m in _LINES[k]})) for _name, ks in _LINES_OF.items()
}


def is_known_name(first_key: str) -> bool:
    """A given name the table knows (a real name, not a typo of one)."""
    return first_key in _GROUP


def nickname_group(first_key: str) -> str:
    """The widest family first_key belongs to, joined through shared short forms (itself
    when no line lists it): a blocking key, never evidence that two names are one."""
    return _GROUP.get(first_key, first_key)


def same_person_names(a: str, b: str) -> bool:
    """Two first-name keys one person may go by: equal, or on one line of the table."""
    return a == b or bool(_LINES_OF.get(a, frozenset()) & _LINES_OF.get(b, frozenset()))


def family(first_key: str) -> tuple[str, ...]:
    """Every name sharing a line with first_key (just itself when no line lists it)."""
    return _KIN.get(first_key, (first_key,))


def formal_names(first_key: str) -> tuple[str, ...]:
    """first_key itself and the given names whose line lists it (Liv → olivia)."""
    return (first_key, *(_FORMAL[k] for k in sorted(_LINES_OF.get(first_key, frozenset()))))
