"""A development set for retrieval: long multi-session conversations and questions with known evidence.

Generated from templates (deterministic for a seed, nothing downloaded), in the spirit of
LoCoMo/LongMemEval: pairs of speakers talk over many dated sessions; a turn is one memory with its
speaker and session date in `metadata` and the session's time as `created_at`. Some turns carry a
personal fact (a pet adopted, a trip, a new job, ...), and each person has several facts of the same
kind at different dates, so a question must find the right speaker's turn from the right time.
The rest are topical chit-chat that shares the facts' vocabulary and short back-channel turns
("Haha, totally."), the hard negatives a vector ranking likes.

Questions (each with the id of its evidence turn) come in four kinds:
- "what": a paraphrase naming the speaker ("What did Alice call the puppy?"), the speaker only in metadata;
- "when": "When did Alice adopt the beagle?" (the answer is the session date);
- "who": "Who adopted a beagle?";
- "dated": "Which book did Alice mention on 8 May 2023?" (the person has other books at other dates).
"""

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

PEOPLE = [
    "Alice", "Bruno", "Chiara", "Dmitri", "Elena", "Farid", "Greta", "Hiroshi", "Ingrid", "Jamal",
    "Keiko", "Lorenzo", "Maya", "Nikolai", "Olivia", "Pedro", "Quinn", "Rosa", "Samir", "Tanya",
    "Umar", "Valentina", "Wei", "Ximena", "Yusuf", "Zara", "Anders", "Beatriz", "Callum", "Daria",
    "Emeka", "Freya", "Gustavo", "Hana", "Ivan", "Jorge", "Kamala", "Liam", "Mirela", "Noor",
]


@dataclass(frozen=True)
class Kind:
    """One kind of personal fact: slot values, how a speaker says it, and how it is asked about."""

    name: str
    noun: str  # "Which {noun} did X mention on <date>?"
    slots: dict
    says: tuple  # first-person evidence phrasings
    what: tuple  # paraphrased questions naming the speaker
    when: tuple
    who: tuple
    chatter: tuple  # on-topic turns without the fact (hard negatives)


KINDS = [
    Kind("pet", "pet", {"breed": ["beagle", "golden retriever", "dachshund", "husky", "corgi", "border collie", "poodle",
                                  "labrador", "pug", "greyhound", "shiba inu", "boxer"],
                        "pet": ["Biscuit", "Pepper", "Mochi", "Luna", "Waffles", "Ziggy", "Nacho", "Olive", "Bear",
                                "Pickles", "Juniper", "Rocket"]},
         ("We finally adopted a {breed} puppy last weekend and named him {pet}!",
          "Big news at home: a little {breed} called {pet} joined our family.",
          "I brought home a {breed} from the shelter, his name is {pet}."),
         ("What is the name of the dog {name} adopted?", "What did {name} call the new puppy?",
          "What breed is {name}'s new dog?"),
         ("When did {name} adopt the {breed}?", "When did {name} get a dog named {pet}?"),
         ("Who adopted a {breed} named {pet}?", "Who got a puppy called {pet}?"),
         ("Dogs are so much work, but they are worth it.", "I keep thinking about getting a pet someday.",
          "My neighbour's {breed} barks all night.", "Do you know a good vet around here?")),
    Kind("trip", "trip", {"city": ["Lisbon", "Kyoto", "Reykjavik", "Marrakech", "Vancouver", "Prague", "Cape Town",
                                   "Buenos Aires", "Hanoi", "Edinburgh", "Oaxaca", "Tallinn"],
                          "sight": ["old harbour", "temple gardens", "northern lights", "night market", "mountain trail",
                                    "castle on the hill", "street food tour", "cathedral"]},
         ("Just got back from {city}, the {sight} was breathtaking.",
          "We spent a week in {city}; I still dream about the {sight}.",
          "{city} was amazing, we walked to the {sight} every evening."),
         ("Where did {name} go on holiday?", "Which city did {name} travel to and see the {sight}?",
          "What place did {name} visit on vacation?"),
         ("When did {name} travel to {city}?", "When was {name}'s trip to {city}?"),
         ("Who went on a trip to {city}?", "Who visited the {sight} in {city}?"),
         ("I'd love to travel more this year.", "Packing is always the worst part of a holiday.",
          "Have you ever been to {city}? I hear it's lovely.", "Flights are so expensive lately.")),
    Kind("job", "job", {"job": ["nurse", "data analyst", "pastry chef", "architect", "physiotherapist", "teacher",
                                "software engineer", "librarian", "paramedic", "translator", "electrician",
                                "graphic designer"],
                        "company": ["Northwind", "Bluebird Clinic", "Orchard Labs", "Summit Bakery", "Harbor Schools",
                                    "Atlas Studio", "Greenway Transit", "Pinecone Media"]},
         ("I started a new position as a {job} at {company} this week.",
          "Guess what, {company} hired me as a {job}!", "My first days as a {job} at {company} were exhausting but fun."),
         ("What is {name}'s new job?", "What does {name} work as now?", "Which company did {name} join?"),
         ("When did {name} start working at {company}?", "When did {name} become a {job}?"),
         ("Who started working as a {job}?", "Who got hired by {company}?"),
         ("Work has been hectic lately.", "I've been thinking about changing careers.",
          "My boss keeps scheduling meetings on Friday afternoons.", "Job interviews make me so nervous.")),
    Kind("class", "class", {"hobby": ["pottery", "salsa dancing", "watercolour painting", "rock climbing", "Italian cooking",
                                      "photography", "calligraphy", "improv theatre", "woodworking", "yoga", "fencing",
                                      "sourdough baking"]},
         ("I signed up for a {hobby} class at the community centre, the first lesson was great.",
          "I've been taking {hobby} lessons on Tuesday evenings.", "Started a {hobby} course, I'm terrible but I love it."),
         ("What class did {name} sign up for?", "Which hobby is {name} taking lessons in?",
          "What new activity did {name} start learning?"),
         ("When did {name} start {hobby} lessons?", "When did {name} sign up for {hobby}?"),
         ("Who is taking {hobby} lessons?", "Who signed up for a {hobby} class?"),
         ("I need a new hobby, any ideas?", "Evening classes are a nice way to meet people.",
          "I tried {hobby} once and was hopeless.", "I wish I had more free time for hobbies.")),
    Kind("race", "race", {"city": ["Berlin", "Chicago", "Valencia", "Porto", "Sydney", "Rotterdam", "Seville", "Dublin"],
                          "time": ["1:52", "2:05", "1:47", "1:58", "2:11", "1:44", "2:02", "1:55"]},
         ("I ran the {city} half marathon in {time}, a new personal best!",
          "Finished the {city} half in {time}, my legs are still sore.",
          "Crossed the finish line in {city} at {time}, so proud."),
         ("What was {name}'s half marathon time?", "How fast did {name} finish the race?",
          "Which race did {name} run recently?"),
         ("When did {name} run the {city} half marathon?", "When did {name} race in {city}?"),
         ("Who ran the {city} half marathon?", "Who finished a half marathon in {time}?"),
         ("Running in the rain is actually kind of nice.", "I should really start training again.",
          "My knees hate long runs.", "The {city} marathon sounds brutal.")),
    Kind("book", "book", {"book": ["The Salt Road", "Glass Orchard", "A River of Lanterns", "Northern Static",
                                   "The Clockmaker's Daughter", "Paper Moons", "Small Gods of Summer", "The Iron Garden",
                                   "Letters from Tangier", "Quiet Engines", "The Last Lighthouse", "Borrowed Stars"],
                          "author": ["Mara Quell", "Tobias Wren", "Lina Okafor", "Sven Holt", "Priya Nandakumar",
                                     "Hugo Ferreira", "Ada Lindqvist", "Rafael Moreno"]},
         ("I'm reading '{book}' by {author}, I can't put it down.", "Just finished '{book}', {author} is brilliant.",
          "My book club picked '{book}' by {author} this month."),
         ("What book is {name} reading?", "Which novel did {name} recommend?", "Who is the author {name} was reading?"),
         ("When did {name} read '{book}'?", "When was {name} reading the {author} novel?"),
         ("Who was reading '{book}'?", "Who read a novel by {author}?"),
         ("I never have time to read anymore.", "Audiobooks are great for the commute.",
          "Any book recommendations for the summer?", "The library near me just reopened.")),
    Kind("instrument", "instrument", {"instrument": ["cello", "ukulele", "piano", "trumpet", "violin", "drums", "banjo",
                                                     "saxophone", "harp", "accordion", "flute", "bass guitar"]},
         ("I've been learning to play the {instrument}, my teacher says I'm improving fast.",
          "Bought a second-hand {instrument} and practise every night.", "Finally played a full song on the {instrument}!"),
         ("What instrument is {name} learning?", "Which instrument does {name} practise?",
          "What music is {name} learning to play?"),
         ("When did {name} start playing the {instrument}?", "When did {name} buy a {instrument}?"),
         ("Who is learning the {instrument}?", "Who practises the {instrument} every night?"),
         ("I always wanted to play an instrument.", "Music lessons are expensive.", "Our neighbours play loud music.",
          "I sang in a choir as a kid.")),
    Kind("move", "move", {"area": ["Riverside", "Old Town", "Hillcrest", "the harbour district", "Maple Heights",
                                   "Westbrook", "the university quarter", "Cedar Park"]},
         ("We're moving to a new apartment in {area} next month.", "Signed the lease for a flat in {area} today!",
          "Our new place in {area} has a balcony, I'm thrilled."),
         ("Where is {name} moving to?", "Which neighbourhood is {name}'s new home in?",
          "Where did {name} find an apartment?"),
         ("When did {name} move to {area}?", "When did {name} sign a lease in {area}?"),
         ("Who is moving to {area}?", "Who found a flat in {area}?"),
         ("House hunting is exhausting.", "Rent keeps going up everywhere.", "I hate packing boxes.",
          "Is {area} a nice area to live in?")),
    Kind("baby", "niece or nephew", {"sibling": ["Marta", "Jonas", "Aisha", "Tomas", "Sofia", "Kenji", "Lucia", "Omar"],
                                     "baby": ["Ella", "Noah", "Amara", "Leo", "Iris", "Mateo", "Nina", "Felix"]},
         ("My sister {sibling} just had a baby called {baby}!", "I became an aunt, {sibling}'s little {baby} was born.",
          "Holding baby {baby} for the first time, {sibling} is so happy."),
         ("What is the name of {name}'s new niece or nephew?", "Whose baby did {name} talk about?",
          "What did {name}'s sibling name the baby?"),
         ("When was {sibling}'s baby {baby} born?", "When did {name} become an aunt or uncle?"),
         ("Whose sister {sibling} had a baby?", "Who has a new niece or nephew called {baby}?"),
         ("Babies are so tiny.", "Family gatherings are chaos but fun.", "My cousins all have kids now.",
          "I'm the godparent of my friend's son.")),
    Kind("injury", "injury", {"part": ["ankle", "wrist", "knee", "shoulder", "back", "elbow"],
                              "sport": ["football", "tennis", "basketball", "volleyball", "skiing", "badminton",
                                        "hockey", "squash"]},
         ("I sprained my {part} playing {sport} on Saturday.", "Hurt my {part} at {sport}, the doctor says two weeks of rest.",
          "My {part} is swollen after that {sport} match."),
         ("How did {name} get injured?", "What did {name} hurt?", "Which sport caused {name}'s injury?"),
         ("When did {name} hurt the {part}?", "When did {name} get injured playing {sport}?"),
         ("Who hurt their {part} playing {sport}?", "Who got injured at {sport}?"),
         ("I should stretch more before exercise.", "Physio appointments are hard to book.", "I love watching {sport}.",
          "Sports injuries take forever to heal.")),
    Kind("car", "car", {"car": ["Volvo estate", "Mini Cooper", "Toyota hybrid", "Subaru wagon", "Fiat 500", "Honda Civic",
                                "electric Kia", "camper van"],
                        "colour": ["red", "dark green", "silver", "bright yellow", "navy blue", "white"]},
         ("I bought a used {car}, it's {colour} and runs great.", "Picked up my {colour} {car} from the dealer today.",
          "Finally traded the old car for a {colour} {car}."),
         ("What car did {name} buy?", "What vehicle does {name} drive now?", "What colour is {name}'s new car?"),
         ("When did {name} buy the {car}?", "When did {name} get a {colour} car?"),
         ("Who bought a {colour} {car}?", "Who drives a {car}?"),
         ("Parking downtown is a nightmare.", "I mostly cycle to work anyway.", "Car insurance is ridiculous.",
          "Road trips are the best way to travel.")),
    Kind("concert", "concert", {"band": ["The Velvet Foxes", "Midnight Atlas", "Coral Static", "Lanterns & Ladders",
                                         "Echo Harbour", "The Paper Kites", "Neon Orchard", "Silver Tides"],
                                "venue": ["Apollo Hall", "the open-air stadium", "Blue Note club", "the old opera house",
                                          "Riverside arena", "the jazz cellar"]},
         ("We saw {band} live at {venue}, the encore was amazing.", "{band} played {venue} last night and I lost my voice.",
          "Got front-row tickets for {band} at {venue}!"),
         ("Which band did {name} see live?", "What concert did {name} go to?", "Where did {name} see the gig?"),
         ("When did {name} see {band}?", "When did {name} go to the concert at {venue}?"),
         ("Who saw {band} in concert?", "Who went to a gig at {venue}?"),
         ("Concert tickets are so pricey now.", "I prefer small venues to stadiums.", "Music festivals are too crowded.",
          "Have you heard the new {band} album?")),
    Kind("course", "course", {"subject": ["machine learning", "Spanish grammar", "astronomy", "art history",
                                          "personal finance", "marine biology", "creative writing", "first aid",
                                          "Japanese", "web design", "philosophy", "bookkeeping"]},
         ("I enrolled in an online course on {subject}, the lectures are fascinating.",
          "Passed the first exam in my {subject} course!", "Staying up late doing {subject} homework again."),
         ("What is {name} studying?", "Which subject is {name}'s online course about?", "What course did {name} take?"),
         ("When did {name} enrol in the {subject} course?", "When did {name} start studying {subject}?"),
         ("Who is taking a course on {subject}?", "Who passed an exam in {subject}?"),
         ("Online courses need so much discipline.", "I want to learn something new this year.",
          "University feels like ages ago.", "Exams still give me nightmares.")),
    Kind("award", "award", {"award": ["first prize", "the employee of the month award", "a bronze medal",
                                      "the photography contest", "the chili cook-off", "the chess tournament",
                                      "the pub quiz", "a scholarship"],
                            "event": ["the town fair", "the regional championship", "the company party",
                                      "the charity gala", "the school fundraiser", "the summer festival"]},
         ("I won {award} at {event}!", "Can't believe it, I took {award} at {event}.",
          "They announced at {event} that I'd won {award}."),
         ("What did {name} win?", "What prize did {name} get?", "Where did {name} win an award?"),
         ("When did {name} win {award}?", "When was {name} at {event}?"),
         ("Who won {award} at {event}?", "Who took home {award}?"),
         ("I never win anything.", "Competitions stress me out.", "The prizes at {event} are always silly.",
          "Congrats to everyone who entered.")),
]

BACKCHANNEL = (
    "Haha, totally.", "That's awesome!", "Same here.", "Really? Tell me more.", "Oh no!", "Wow.", "Nice!",
    "I know, right?", "Good for you!", "How have you been?", "Not much, you?", "Ha, fair enough.", "Sounds fun.",
    "I'm so happy for you!", "That's wild.", "Oh wow, congrats!", "Yeah, I get that.", "Lol.", "Same old, same old.",
    "Talk soon!", "Anyway, how was your week?", "Can't wait to hear more.",
)
SMALL_TALK = (
    "The weather has been so strange this week, sunny one day and stormy the next.",
    "I've been trying to sleep earlier but it never works.", "We had pizza again tonight, no regrets.",
    "Work was long today, I'm just glad it's the weekend soon.", "I finally cleaned the whole kitchen.",
    "My phone died in the middle of the afternoon, what a day.", "I'm drinking way too much coffee lately.",
    "We watched a documentary about octopuses yesterday.", "The traffic this morning was unbelievable.",
    "I'm thinking of redecorating the living room.", "I forgot my umbrella again and got soaked.",
    "My grandmother called and we talked for an hour.", "I've started journaling before bed.",
)
REPLIES = ("Congrats! {value} sounds wonderful.", "Oh, {value}? That's so exciting!", "No way, {value}! Tell me everything.")


@dataclass
class Turn:
    pk: int  # the turn's index in Conversations.turns
    speaker: str
    content: str
    at: datetime
    conversation: int
    session: int


@dataclass
class Question:
    text: str
    kind: str  # what / when / who / dated
    evidence: list  # turn indexes


@dataclass
class DevelopmentSet:
    turns: list = field(default_factory=list)
    questions: list = field(default_factory=list)


def date_words(at):
    return f"{at.day} {at:%B %Y}"


def build(seed=7, conversations=20, sessions=12, turns_per_session=16, facts_per_person=10):
    """Return a DevelopmentSet: about conversations*sessions*turns_per_session turns and their questions."""
    rng = random.Random(seed)
    data = DevelopmentSet()
    people = PEOPLE[:2 * conversations] if 2 * conversations <= len(PEOPLE) else [
        f"{name}{i}" for i in range(conversations) for name in PEOPLE[:2]]
    facts_planned = []  # (turn index, person, kind, values)
    for c in range(conversations):
        pair = people[2 * c:2 * c + 2]
        at = datetime(2022, 1, 1, tzinfo=timezone.utc) + timedelta(days=rng.randrange(0, 300))
        # Each person's facts: kinds repeat (two books at two dates), so dates and speakers matter.
        plan = {person: [rng.choice(KINDS[:8]) if i % 3 else rng.choice(KINDS) for i in range(facts_per_person)]
                for person in pair}
        slots_per_session = {s: [] for s in range(sessions)}
        for person, kinds in plan.items():
            for kind in kinds:
                slots_per_session[rng.randrange(sessions)].append((person, kind))
        for s in range(sessions):
            at += timedelta(days=rng.randrange(4, 25), hours=rng.randrange(0, 6))
            session_start = at.replace(hour=rng.choice([9, 13, 18, 20]), minute=rng.randrange(60))
            lines = []  # (speaker, content, fact)
            for person, kind in slots_per_session[s]:
                values = {slot: rng.choice(options) for slot, options in kind.slots.items()}
                lines.append((person, rng.choice(kind.says).format(**values), (kind, values)))
                other = pair[1] if person == pair[0] else pair[0]
                if rng.random() < 0.4:  # the other speaker echoes the fact: a hard negative with its words
                    lines.append((other, rng.choice(REPLIES).format(value=rng.choice(list(values.values()))), None))
            while len(lines) < turns_per_session:
                speaker = rng.choice(pair)
                roll = rng.random()
                if roll < 0.35:
                    kind = rng.choice(KINDS)
                    values = {slot: rng.choice(options) for slot, options in kind.slots.items()}
                    text = rng.choice(kind.chatter).format(**values)
                elif roll < 0.7:
                    text = rng.choice(BACKCHANNEL)
                else:
                    text = rng.choice(SMALL_TALK)
                lines.insert(rng.randrange(len(lines) + 1), (speaker, text, None))
            for i, (speaker, content, fact) in enumerate(lines):
                turn = Turn(len(data.turns), speaker, content, session_start + timedelta(minutes=2 * i), c, s)
                data.turns.append(turn)
                if fact:
                    facts_planned.append((turn, fact[0], fact[1]))
    # Questions: one per fact, of a kind chosen so that each kind is well represented.
    same = {}
    for turn, kind, values in facts_planned:
        same.setdefault((turn.speaker, kind.name), []).append(turn)
    for turn, kind, values in facts_planned:
        roll = rng.random()
        fill = {**values, "name": turn.speaker}
        if roll < 0.35:
            # Every fact of this kind the speaker told answers it ("the dog Alice adopted": either dog).
            question = Question(rng.choice(kind.what).format(**fill), "what",
                                [t.pk for t in same[(turn.speaker, kind.name)]])
        elif roll < 0.6:
            question = Question(rng.choice(kind.when).format(**fill), "when", [turn.pk])
        elif roll < 0.8:
            question = Question(rng.choice(kind.who).format(**fill), "who", [turn.pk])
        else:
            question = Question(f"Which {kind.noun} did {turn.speaker} mention on {date_words(turn.at)}?", "dated",
                                [t.pk for t in same[(turn.speaker, kind.name)] if t.at.date() == turn.at.date()])
        data.questions.append(question)
    return data


if __name__ == "__main__":
    dev = build()
    print(f"{len(dev.turns)} turns, {len(dev.questions)} questions")
    for q in dev.questions[:12]:
        print(q.kind, q.text, "->", dev.turns[q.evidence[0]].speaker, dev.turns[q.evidence[0]].content,
              dev.turns[q.evidence[0]].at.date())
