"""How bookbot shows things to people: translations, dates and money, calendars, reports."""
