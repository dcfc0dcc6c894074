"""British given-name variants: formal names and the short forms members actually use.

Why hand-kept: the `nicknames` package misses common British forms (Kath, Gill, Nell, Liam…)
and brings a US genealogy bias. Each line is one family of names; a name in two families
joins them, so "nickname agreement" is a modest level of evidence, never an identity.
"""

from __future__ import annotations

_FAMILIES = """
alexander alex alec alexandra alexa sandy sandra xander lexi lex aleksander olek aleksandra ola
andrew andy drew andi
anthony tony antony
benjamin ben benny benji
charles charlie chas chuck charlotte lottie
christopher chris kit christine christina chrissy tina kristina
daniel dan danny danielle dani
david dave davy davey
edward ed eddie ted teddy ned edwin edmund
elizabeth liz lizzie beth betty bess bessie eliza elise libby lisa elspeth lilibet
eleanor ellie nell nellie ella elle helen helena elaine
frederick fred freddie freda
gillian gill jill jillian
gregory greg
gareth gaz gary
william bill
harriet hattie
hugh hughie
kieran kier
henry harry hal hank
jacob jake jack
james jim jimmy jamie jimbo
jennifer jen jenny jenni
john jon johnny jonathan jonny jack
joseph joe joey josephine jo josie joanne joanna joan
katherine kathryn catherine kath kathy cath cathy kate katie kat kitty kay kathleen caitlin
kenneth ken kenny
lawrence laurence larry laurie
margaret maggie meg peggy marge margie greta rita maisie
matthew matt matty mathew
michael mike mick micky mickey mikey mickie
nicholas nick nicky nicola nicole nikki
patrick pat paddy patricia trish tricia patsy
peter pete
philip phil phillip pip
rebecca becky becca bex
richard rich rick ricky dick richie
robert rob robbie bob bobby bert bertie roberta
ronald ron ronnie
samuel sam sammy samantha
stephen steven steve stevie stephanie steph
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
anne ann annie anna hannah nan nancy
barbara barb babs
bernard bernie
caroline carol carrie carolyn
cynthia cindy
deborah debbie deb debra
dorothy dot dottie dolly
douglas doug dougie
emily em emmy emma emmie
gerald gerry jerry geraldine
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
natalie nat natasha tash
norman norm
oliver ollie olly olivia liv livvy
pamela pam
penelope penny
raymond ray
rosemary rose rosie rosalind roz
sarah sara sally sadie
sebastian seb
simon si
stanley stan
terence terry teresa theresa tess tessa terri
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


def _build() -> dict[str, str]:
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        while parent.setdefault(x, x) != x:
            x = parent[x]
        return x

    for line in _FAMILIES.strip().splitlines():
        names = line.split()
        root = find(names[0])
        for n in names[1:]:
            r = find(n)
            if r != root:
                parent[max(r, root)] = min(r, root)
                root = min(r, root)
    return {n: find(n) for n in parent}


_GROUP = _build()
_MEMBERS: dict[str, tuple[str, ...]] = {}
for _name, _root in sorted(_GROUP.items()):
    _MEMBERS[_root] = (*_MEMBERS.get(_root, ()), _name)


def is_known_name(first_key: str) -> bool:
    """A given name the table knows (a real name, not a typo of one)."""
    return first_key in _GROUP


def nickname_group(first_key: str) -> str:
    """The family a first-name key belongs to (itself when no family lists it)."""
    return _GROUP.get(first_key, first_key)


def family(first_key: str) -> tuple[str, ...]:
    """Every name in first_key's family (just itself when no family lists it)."""
    return _MEMBERS.get(_GROUP.get(first_key, ""), (first_key,))
