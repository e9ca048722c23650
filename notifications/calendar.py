"""An iCalendar event at an obligation's due time, attached to every mail about a deadline."""

import pendulum
from icalendar import Calendar, Event


def deadline_event(*, uid: str, summary: str, description: str, due_at: pendulum.DateTime,
                   stamp: pendulum.DateTime) -> str:
    calendar = Calendar()
    calendar.add("prodid", "-//ENT incidents//Coordination académie-collectivité//FR")
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    event = Event()
    event.add("uid", uid)
    event.add("dtstamp", stamp.in_timezone("UTC"))
    event.add("dtstart", due_at.in_timezone("UTC"))
    event.add("dtend", due_at.in_timezone("UTC").add(minutes=30))
    event.add("summary", summary)
    event.add("description", description)
    calendar.add_component(event)
    return calendar.to_ical().decode("utf-8")
