"""What each notice says, per language. Placeholders are filled by render.py with str.format_map.

A letter is: subject (after the "[reference]" prefix), heading, intro lines, the quoted text
(a reply or resolution), outro lines, a table of facts, one link and a footer.
"""

from __future__ import annotations

from typing import Any

TEXTS: dict[str, dict[str, Any]] = {
    "en": {
        "labels": {
            "subject": "Subject",
            "category": "Category",
            "first_response_due": "First answer by",
            "resolution_due": "Resolution by",
            "level": "Level",
            "reason": "Reason",
            "due_at": "Due",
            "amount": "Amount",
        },
        "levels": {1: "the category's team", 2: "supervisors", 3: "management"},
        "targets": {"response": "response deadline", "resolution": "resolution deadline"},
        "footer_customer": "Please quote {reference} whenever you write to us about this complaint.",
        "footer_staff": "Sent automatically by the support system.",
        "complaint_ack": {
            "subject": "We received your complaint",
            "heading": "We received your complaint",
            "intro": (
                "Thank you for telling us. Your complaint is registered under the reference {reference}.",
                "You can follow it, read our answers and reply at any time from the link below.",
            ),
            "link": "Follow your complaint",
        },
        "complaint_reply": {
            "subject": "A reply to your complaint",
            "heading": "We have replied to your complaint",
            "intro": ("Our team replied to your complaint {reference}:",),
            "outro": ("You can answer from the link below.",),
            "link": "Read and answer",
        },
        "complaint_question": {
            "subject": "We need your answer about your complaint",
            "heading": "We have a question about your complaint",
            "intro": ("To go on with your complaint {reference}, we need your answer:",),
            "outro": (
                "You can answer from the link below.",
                "If we have not heard from you by {close_by}, we will close the complaint.",
            ),
            "link": "Answer",
        },
        "complaint_resolved": {
            "subject": "Your complaint has been resolved",
            "heading": "Your complaint has been resolved",
            "intro": ("We have resolved your complaint {reference}:",),
            "outro": (
                "If this does not settle the matter, open the link below and tell us what is missing;"
                " you can also accept the resolution there.",
                "If we have not heard from you by {close_by}, we will take the matter as settled and close the complaint.",
            ),
            "link": "See the resolution",
        },
        "complaint_compensation": {
            "subject": "Compensation approved",
            "heading": "We have approved compensation",
            "intro": ("We have approved compensation of {amount} for your complaint {reference}.",),
            "outro": (
                "You can see it and follow your complaint from the link below.",
                "If we have not heard from you by {close_by}, we will close the complaint.",
            ),
            "link": "See your complaint",
        },
        "complaint_closed": {
            "subject": "How did we handle your complaint?",
            "heading": "Your complaint is closed",
            "intro": (
                "We closed your complaint {reference}, as we have not heard back from you.",
                "Please tell us how we handled it: rating it takes a few seconds and helps us improve.",
            ),
            "outro": ("If the problem comes back, write to us and quote {reference}.",),
            "link": "Rate how we handled it",
        },
        "complaint_escalated": {
            "subject": "Complaint escalated to you: {subject}",
            "heading": "A complaint has been escalated to you",
            "intro": ("Complaint {reference} was escalated to level {level} ({level_name}) and is now yours to handle.",),
            "link": "Open it in the console",
        },
        "complaint_sla_warning": {
            "subject": "Complaint due soon: {subject}",
            "heading": "A complaint is nearly due",
            "intro": ("The {target_name} for complaint {reference} is {due_at}.",),
            "link": "Open it in the console",
        },
    },
    "ru": {
        "labels": {
            "subject": "Тема",
            "category": "Категория",
            "first_response_due": "Первый ответ до",
            "resolution_due": "Решение до",
            "level": "Уровень",
            "reason": "Причина",
            "due_at": "Срок",
            "amount": "Сумма",
        },
        "levels": {1: "команда категории", 2: "супервайзеры", 3: "руководство"},
        "targets": {"response": "срок ответа", "resolution": "срок решения"},
        "footer_customer": "Пожалуйста, указывайте номер {reference}, когда пишете нам об этой жалобе.",
        "footer_staff": "Письмо отправлено системой поддержки автоматически.",
        "complaint_ack": {
            "subject": "Мы получили вашу жалобу",
            "heading": "Мы получили вашу жалобу",
            "intro": (
                "Спасибо, что сообщили нам. Ваша жалоба зарегистрирована под номером {reference}.",
                "По ссылке ниже можно следить за ней, читать наши ответы и отвечать в любое время.",
            ),
            "link": "Следить за жалобой",
        },
        "complaint_reply": {
            "subject": "Ответ на вашу жалобу",
            "heading": "Мы ответили на вашу жалобу",
            "intro": ("Наша команда ответила на вашу жалобу {reference}:",),
            "outro": ("Ответить можно по ссылке ниже.",),
            "link": "Прочитать и ответить",
        },
        "complaint_question": {
            "subject": "Нужен ваш ответ по жалобе",
            "heading": "У нас есть вопрос по вашей жалобе",
            "intro": ("Чтобы продолжить работу по жалобе {reference}, нам нужен ваш ответ:",),
            "outro": (
                "Ответить можно по ссылке ниже.",
                "Если мы не получим ответа до {close_by}, жалоба будет закрыта.",
            ),
            "link": "Ответить",
        },
        "complaint_resolved": {
            "subject": "Ваша жалоба решена",
            "heading": "Ваша жалоба решена",
            "intro": ("Мы решили вашу жалобу {reference}:",),
            "outro": (
                "Если вопрос не закрыт, откройте ссылку ниже и напишите, чего не хватает;"
                " там же можно согласиться с решением.",
                "Если мы не получим ответа до {close_by}, мы будем считать вопрос решённым и закроем жалобу.",
            ),
            "link": "Посмотреть решение",
        },
        "complaint_compensation": {
            "subject": "Компенсация одобрена",
            "heading": "Мы одобрили компенсацию",
            "intro": ("Мы одобрили компенсацию в размере {amount} по вашей жалобе {reference}.",),
            "outro": (
                "Посмотреть её и следить за жалобой можно по ссылке ниже.",
                "Если мы не получим ответа до {close_by}, жалоба будет закрыта.",
            ),
            "link": "Открыть жалобу",
        },
        "complaint_closed": {
            "subject": "Как мы справились с вашей жалобой?",
            "heading": "Ваша жалоба закрыта",
            "intro": (
                "Мы закрыли вашу жалобу {reference}, так как не получили от вас ответа.",
                "Пожалуйста, оцените, как мы с ней справились: это займёт несколько секунд и поможет нам стать лучше.",
            ),
            "outro": ("Если проблема повторится, напишите нам и укажите номер {reference}.",),
            "link": "Оценить нашу работу",
        },
        "complaint_escalated": {
            "subject": "Вам передана жалоба: {subject}",
            "heading": "Вам передана жалоба",
            "intro": ("Жалоба {reference} эскалирована на уровень {level} ({level_name}) и теперь за вами.",),
            "link": "Открыть в консоли",
        },
        "complaint_sla_warning": {
            "subject": "Скоро истекает срок по жалобе: {subject}",
            "heading": "Срок по жалобе скоро истекает",
            "intro": ("По жалобе {reference} {target_name} истекает {due_at}.",),
            "link": "Открыть в консоли",
        },
    },
    "pl": {
        "labels": {
            "subject": "Temat",
            "category": "Kategoria",
            "first_response_due": "Pierwsza odpowiedź do",
            "resolution_due": "Rozwiązanie do",
            "level": "Poziom",
            "reason": "Powód",
            "due_at": "Termin",
            "amount": "Kwota",
        },
        "levels": {1: "zespół kategorii", 2: "supervisorzy", 3: "kierownictwo"},
        "targets": {"response": "termin odpowiedzi", "resolution": "termin rozwiązania"},
        "footer_customer": "Prosimy podawać numer {reference} w każdej wiadomości dotyczącej tej reklamacji.",
        "footer_staff": "Wiadomość wysłana automatycznie przez system obsługi klienta.",
        "complaint_ack": {
            "subject": "Otrzymaliśmy Twoją reklamację",
            "heading": "Otrzymaliśmy Twoją reklamację",
            "intro": (
                "Dziękujemy za zgłoszenie. Twoja reklamacja została zarejestrowana pod numerem {reference}.",
                "Pod poniższym linkiem możesz śledzić jej status, czytać nasze odpowiedzi i odpowiadać w dowolnej chwili.",
            ),
            "link": "Śledź reklamację",
        },
        "complaint_reply": {
            "subject": "Odpowiedź na Twoją reklamację",
            "heading": "Odpowiedzieliśmy na Twoją reklamację",
            "intro": ("Nasz zespół odpowiedział na Twoją reklamację {reference}:",),
            "outro": ("Możesz odpowiedzieć, korzystając z poniższego linku.",),
            "link": "Przeczytaj i odpowiedz",
        },
        "complaint_question": {
            "subject": "Potrzebujemy Twojej odpowiedzi w sprawie reklamacji",
            "heading": "Mamy pytanie dotyczące Twojej reklamacji",
            "intro": ("Aby kontynuować rozpatrywanie reklamacji {reference}, potrzebujemy Twojej odpowiedzi:",),
            "outro": (
                "Możesz odpowiedzieć, korzystając z poniższego linku.",
                "Jeśli nie otrzymamy od Ciebie odpowiedzi do {close_by}, zamkniemy reklamację.",
            ),
            "link": "Odpowiedz",
        },
        "complaint_resolved": {
            "subject": "Twoja reklamacja została rozpatrzona",
            "heading": "Twoja reklamacja została rozpatrzona",
            "intro": ("Rozpatrzyliśmy Twoją reklamację {reference}:",),
            "outro": (
                "Jeśli to nie zamyka sprawy, otwórz poniższy link i napisz, czego brakuje;"
                " tam też możesz zaakceptować rozwiązanie.",
                "Jeśli nie otrzymamy od Ciebie odpowiedzi do {close_by}, uznamy sprawę za zakończoną i zamkniemy reklamację.",
            ),
            "link": "Zobacz rozwiązanie",
        },
        "complaint_compensation": {
            "subject": "Przyznaliśmy rekompensatę",
            "heading": "Przyznaliśmy rekompensatę",
            "intro": ("Przyznaliśmy rekompensatę w wysokości {amount} w ramach Twojej reklamacji {reference}.",),
            "outro": (
                "Szczegóły i dalszy przebieg reklamacji znajdziesz pod poniższym linkiem.",
                "Jeśli nie otrzymamy od Ciebie odpowiedzi do {close_by}, zamkniemy reklamację.",
            ),
            "link": "Zobacz reklamację",
        },
        "complaint_closed": {
            "subject": "Jak oceniasz rozpatrzenie reklamacji?",
            "heading": "Twoja reklamacja została zamknięta",
            "intro": (
                "Zamknęliśmy Twoją reklamację {reference}, ponieważ nie otrzymaliśmy od Ciebie odpowiedzi.",
                "Oceń, jak się nią zajęliśmy: zajmie to kilka sekund i pomoże nam działać lepiej.",
            ),
            "outro": ("Jeśli problem wróci, napisz do nas i podaj numer {reference}.",),
            "link": "Oceń obsługę",
        },
        "complaint_escalated": {
            "subject": "Przekazano Ci reklamację: {subject}",
            "heading": "Przekazano Ci reklamację",
            "intro": ("Reklamacja {reference} została eskalowana na poziom {level} ({level_name}) i teraz należy do Ciebie.",),
            "link": "Otwórz w konsoli",
        },
        "complaint_sla_warning": {
            "subject": "Zbliża się termin reklamacji: {subject}",
            "heading": "Zbliża się termin reklamacji",
            "intro": ("W reklamacji {reference} {target_name} upływa {due_at}.",),
            "link": "Otwórz w konsoli",
        },
    },
}


def language(locale: str | None) -> str:
    """The catalog for a locale such as 'ru' or 'pl-PL'; English for anything else."""
    code = (locale or "en").replace("_", "-").split("-")[0].lower()
    return code if code in TEXTS else "en"
