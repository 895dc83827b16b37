-- The knowledge base: FAQ articles the widget shows (and agents search), and canned answers for agents.
-- Both are per language; seed rows cover the questions players of betting and gaming sites ask most.

CREATE TABLE faq_articles (
    id TEXT PRIMARY KEY,
    locale TEXT NOT NULL CHECK (locale IN ('en', 'ru', 'pl')),
    category TEXT REFERENCES categories(slug),
    position INTEGER NOT NULL DEFAULT 0,
    question TEXT NOT NULL,
    answer TEXT NOT NULL,
    active INTEGER NOT NULL DEFAULT 1,
    updated_at TEXT NOT NULL
);
CREATE INDEX faq_articles_locale ON faq_articles(locale, active, position);

CREATE TABLE canned_answers (
    id TEXT PRIMARY KEY,
    shortcut TEXT NOT NULL,
    locale TEXT NOT NULL CHECK (locale IN ('en', 'ru', 'pl')),
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    active INTEGER NOT NULL DEFAULT 1,
    updated_at TEXT NOT NULL,
    UNIQUE (shortcut, locale)
);

INSERT INTO faq_articles (id, locale, category, position, question, answer, updated_at) VALUES
    ('faq_en_withdrawal_time', 'en', 'withdrawals', 1, 'How long does a withdrawal take?',
     'Most withdrawals are approved within 24 hours. Cards and bank transfers then take 1–3 business days to arrive, e-wallets usually a few hours. Your first withdrawal may take longer while we verify your account. You can follow the status under Profile → Payments.', strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    ('faq_en_verification', 'en', 'account_access', 2, 'Why do I need to verify my account?',
     'The law requires us to confirm the identity and age of every player before paying out. Upload a photo of your ID and a proof of address (a bill or bank statement from the last 3 months) under Profile → Verification. Checks usually finish within 24 hours.', strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    ('faq_en_bet_settlement', 'en', 'bet_settlement', 3, 'I think my bet was settled incorrectly. What can I do?',
     'Bets are settled from official results once an event is confirmed. If you believe a bet was settled wrongly, start a chat or send a complaint with the bet ID from your bet history. The trading team reviews it and, if we made a mistake, the bet is resettled and the difference credited.', strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    ('faq_en_bonus_wagering', 'en', 'bonuses', 4, 'How do bonus wagering requirements work?',
     'A bonus turns into withdrawable money after you wager it the number of times shown in its terms (for example ×5 on accumulators with odds of 1.40 or more). Your progress is shown under Profile → Bonuses. Withdrawing before the bonus is wagered cancels it.', strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    ('faq_en_password', 'en', 'account_access', 5, 'I cannot log in to my account',
     'Use “Forgot password” on the login page to get a reset link by e-mail or SMS. After five wrong attempts the account is locked for 30 minutes for your safety. If it stays locked, start a chat and an agent will check it with you.', strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    ('faq_en_limits', 'en', 'rules', 6, 'How do I set deposit limits or take a break?',
     'Under Profile → Responsible gaming you can set daily, weekly or monthly deposit limits, a session reminder, a break of 1 day to 6 weeks, or self-exclusion. Lower limits apply at once; higher limits only after 24 hours.', strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    ('faq_en_complaints', 'en', 'other', 7, 'How are complaints handled?',
     'Every complaint gets a reference number such as C-2026-000123. We answer within 24 hours and resolve most cases within 48 hours; difficult cases are escalated to a senior team. You can check the status at any time in the chat under Complaints, accept the answer or ask for more explanation.', strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),

    ('faq_ru_withdrawal_time', 'ru', 'withdrawals', 1, 'Сколько времени занимает вывод средств?',
     'Большинство заявок на вывод одобряются в течение 24 часов. Затем перевод на карту или банковский счёт занимает 1–3 рабочих дня, на электронный кошелёк — обычно несколько часов. Первый вывод может занять больше времени, пока мы проверяем аккаунт. Статус виден в разделе Профиль → Платежи.', strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    ('faq_ru_verification', 'ru', 'account_access', 2, 'Зачем нужна верификация аккаунта?',
     'По закону мы обязаны подтвердить личность и возраст игрока до выплаты. Загрузите фото документа и подтверждение адреса (счёт или выписку за последние 3 месяца) в разделе Профиль → Верификация. Проверка обычно занимает до 24 часов.', strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    ('faq_ru_bet_settlement', 'ru', 'bet_settlement', 3, 'Мне кажется, ставка рассчитана неверно. Что делать?',
     'Ставки рассчитываются по официальным результатам после подтверждения события. Если вы считаете, что ставка рассчитана неверно, начните чат или отправьте жалобу с номером ставки из истории ставок. Команда трейдинга проверит её и при ошибке пересчитает ставку и начислит разницу.', strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    ('faq_ru_bonus_wagering', 'ru', 'bonuses', 4, 'Как работает отыгрыш бонуса?',
     'Бонус становится доступным для вывода после того, как вы отыграете его указанное в условиях число раз (например, ×5 экспрессами с коэффициентом от 1.40). Прогресс отыгрыша виден в разделе Профиль → Бонусы. Вывод до окончания отыгрыша отменяет бонус.', strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    ('faq_ru_password', 'ru', 'account_access', 5, 'Не могу войти в аккаунт',
     'Нажмите «Забыли пароль?» на странице входа — ссылка для сброса придёт на электронную почту или по SMS. После пяти неверных попыток аккаунт блокируется на 30 минут ради вашей безопасности. Если блокировка не снимается, начните чат — оператор проверит всё вместе с вами.', strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    ('faq_ru_limits', 'ru', 'rules', 6, 'Как установить лимиты или взять перерыв?',
     'В разделе Профиль → Ответственная игра можно установить дневной, недельный или месячный лимит депозитов, напоминание о времени сессии, перерыв от 1 дня до 6 недель или самоисключение. Уменьшение лимита действует сразу, увеличение — через 24 часа.', strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    ('faq_ru_complaints', 'ru', 'other', 7, 'Как рассматриваются жалобы?',
     'Каждой жалобе присваивается номер, например C-2026-000123. Мы отвечаем в течение 24 часов и решаем большинство вопросов за 48 часов; сложные случаи передаются старшей команде. Статус можно проверить в любой момент в чате в разделе «Жалобы», принять решение или попросить пояснений.', strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),

    ('faq_pl_withdrawal_time', 'pl', 'withdrawals', 1, 'Ile trwa wypłata środków?',
     'Większość wypłat zatwierdzamy w ciągu 24 godzin. Przelew na kartę lub konto bankowe trwa potem 1–3 dni robocze, na e-portfel zwykle kilka godzin. Pierwsza wypłata może potrwać dłużej, ponieważ weryfikujemy konto. Status sprawdzisz w zakładce Profil → Płatności.', strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    ('faq_pl_verification', 'pl', 'account_access', 2, 'Dlaczego muszę zweryfikować konto?',
     'Prawo wymaga od nas potwierdzenia tożsamości i wieku gracza przed wypłatą. Prześlij zdjęcie dokumentu tożsamości i potwierdzenie adresu (rachunek lub wyciąg z ostatnich 3 miesięcy) w zakładce Profil → Weryfikacja. Sprawdzenie trwa zwykle do 24 godzin.', strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    ('faq_pl_bet_settlement', 'pl', 'bet_settlement', 3, 'Mój zakład został źle rozliczony. Co mogę zrobić?',
     'Zakłady rozliczamy na podstawie oficjalnych wyników po potwierdzeniu zdarzenia. Jeśli uważasz, że zakład rozliczono błędnie, rozpocznij czat lub wyślij reklamację z numerem zakładu z historii zakładów. Zespół tradingu sprawdzi go i w razie błędu rozliczy ponownie oraz dopłaci różnicę.', strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    ('faq_pl_bonus_wagering', 'pl', 'bonuses', 4, 'Jak działa obrót bonusem?',
     'Bonus można wypłacić po obróceniu go tyle razy, ile podano w regulaminie promocji (na przykład ×5 na kuponach AKO z kursem co najmniej 1.40). Postęp widać w zakładce Profil → Bonusy. Wypłata przed zakończeniem obrotu anuluje bonus.', strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    ('faq_pl_password', 'pl', 'account_access', 5, 'Nie mogę zalogować się na konto',
     'Kliknij „Nie pamiętasz hasła?” na stronie logowania — link do zmiany hasła przyjdzie e-mailem lub SMS-em. Po pięciu błędnych próbach konto jest blokowane na 30 minut dla Twojego bezpieczeństwa. Jeśli blokada nie znika, rozpocznij czat, a konsultant sprawdzi to razem z Tobą.', strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    ('faq_pl_limits', 'pl', 'rules', 6, 'Jak ustawić limity lub zrobić przerwę?',
     'W zakładce Profil → Odpowiedzialna gra ustawisz dzienny, tygodniowy lub miesięczny limit wpłat, przypomnienie o czasie sesji, przerwę od 1 dnia do 6 tygodni albo samowykluczenie. Obniżenie limitu działa od razu, podwyższenie — po 24 godzinach.', strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    ('faq_pl_complaints', 'pl', 'other', 7, 'Jak rozpatrujecie reklamacje?',
     'Każda reklamacja otrzymuje numer, np. C-2026-000123. Odpowiadamy w ciągu 24 godzin, a większość spraw rozwiązujemy w ciągu 48 godzin; trudne przypadki trafiają do starszego zespołu. Status sprawdzisz w każdej chwili w czacie w zakładce Reklamacje, gdzie możesz też przyjąć odpowiedź lub poprosić o wyjaśnienia.', strftime('%Y-%m-%dT%H:%M:%fZ', 'now'));

INSERT INTO canned_answers (id, shortcut, locale, title, body, updated_at) VALUES
    ('ca_en_hello', 'hello', 'en', 'Greeting', 'Hi {name}, thanks for reaching out! My name is {agent} and I will help you with this.', strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    ('ca_en_check', 'check', 'en', 'Checking, one moment', 'Thank you for waiting. I am checking this with the responsible team now, it will take a couple of minutes.', strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    ('ca_en_verify', 'verify', 'en', 'Verification needed', 'To process the withdrawal we need to verify your account. Please upload your ID and a proof of address under Profile → Verification; checks usually finish within 24 hours.', strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    ('ca_en_withdraw', 'withdraw', 'en', 'Withdrawal status', 'Your withdrawal has been approved on our side. Depending on your bank it arrives within 1–3 business days; e-wallets are usually faster.', strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    ('ca_en_settle', 'settle', 'en', 'Bet settlement review', 'Could you send me the bet ID from your bet history? I will ask the trading team to review how the bet was settled.', strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    ('ca_en_bonus', 'bonus', 'en', 'Bonus wagering', 'The bonus becomes withdrawable once it has been wagered as described in its terms. You can see your progress under Profile → Bonuses.', strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    ('ca_en_complaint', 'complaint', 'en', 'Registering a complaint', 'I am registering this as a complaint so that our specialists can investigate. You will receive a reference number and an answer within 24 hours.', strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    ('ca_en_bye', 'bye', 'en', 'Closing', 'Is there anything else I can help you with? If not, have a great day and good luck!', strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),

    ('ca_ru_hello', 'hello', 'ru', 'Приветствие', 'Здравствуйте, {name}! Спасибо за обращение. Меня зовут {agent}, я помогу вам с этим вопросом.', strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    ('ca_ru_check', 'check', 'ru', 'Проверяю, минуту', 'Спасибо за ожидание. Уточняю вопрос у ответственной команды, это займёт пару минут.', strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    ('ca_ru_verify', 'verify', 'ru', 'Нужна верификация', 'Чтобы провести вывод, нужно верифицировать аккаунт. Загрузите документ и подтверждение адреса в разделе Профиль → Верификация; проверка обычно занимает до 24 часов.', strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    ('ca_ru_withdraw', 'withdraw', 'ru', 'Статус вывода', 'Ваш вывод одобрен с нашей стороны. В зависимости от банка средства поступят в течение 1–3 рабочих дней; на электронные кошельки обычно быстрее.', strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    ('ca_ru_settle', 'settle', 'ru', 'Проверка расчёта ставки', 'Пришлите, пожалуйста, номер ставки из истории ставок — я передам его команде трейдинга для проверки расчёта.', strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    ('ca_ru_bonus', 'bonus', 'ru', 'Отыгрыш бонуса', 'Бонус станет доступен для вывода после отыгрыша по условиям акции. Прогресс виден в разделе Профиль → Бонусы.', strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    ('ca_ru_complaint', 'complaint', 'ru', 'Регистрация жалобы', 'Я регистрирую ваше обращение как жалобу, чтобы специалисты провели проверку. Вы получите номер жалобы и ответ в течение 24 часов.', strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    ('ca_ru_bye', 'bye', 'ru', 'Завершение', 'Могу ли я помочь чем-то ещё? Если нет — хорошего дня и удачи!', strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),

    ('ca_pl_hello', 'hello', 'pl', 'Powitanie', 'Dzień dobry, {name}! Dziękuję za kontakt. Nazywam się {agent} i pomogę w tej sprawie.', strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    ('ca_pl_check', 'check', 'pl', 'Sprawdzam, chwileczkę', 'Dziękuję za cierpliwość. Sprawdzam to z odpowiedzialnym zespołem, zajmie to kilka minut.', strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    ('ca_pl_verify', 'verify', 'pl', 'Wymagana weryfikacja', 'Aby zrealizować wypłatę, musimy zweryfikować konto. Prześlij dokument tożsamości i potwierdzenie adresu w zakładce Profil → Weryfikacja; sprawdzenie trwa zwykle do 24 godzin.', strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    ('ca_pl_withdraw', 'withdraw', 'pl', 'Status wypłaty', 'Twoja wypłata została zatwierdzona po naszej stronie. W zależności od banku środki dotrą w ciągu 1–3 dni roboczych; na e-portfele zwykle szybciej.', strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    ('ca_pl_settle', 'settle', 'pl', 'Sprawdzenie rozliczenia', 'Prześlij proszę numer zakładu z historii zakładów — przekażę go zespołowi tradingu do sprawdzenia rozliczenia.', strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    ('ca_pl_bonus', 'bonus', 'pl', 'Obrót bonusem', 'Bonus będzie można wypłacić po obróceniu go zgodnie z regulaminem promocji. Postęp widać w zakładce Profil → Bonusy.', strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    ('ca_pl_complaint', 'complaint', 'pl', 'Rejestracja reklamacji', 'Rejestruję zgłoszenie jako reklamację, aby nasi specjaliści mogli je sprawdzić. Otrzymasz numer reklamacji i odpowiedź w ciągu 24 godzin.', strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    ('ca_pl_bye', 'bye', 'pl', 'Zakończenie', 'Czy mogę pomóc w czymś jeszcze? Jeśli nie — miłego dnia i powodzenia!', strftime('%Y-%m-%dT%H:%M:%fZ', 'now'));
