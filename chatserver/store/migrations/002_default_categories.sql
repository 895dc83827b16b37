-- The complaint categories the domain names; admins may rename or retire them later.
INSERT INTO categories (slug, position, name_en, name_ru, name_pl, first_response_hours, resolution_hours, owner_group) VALUES
    ('withdrawals', 1, 'Payments and withdrawals', 'Платежи и вывод средств', 'Płatności i wypłaty', 24, 48, 'payments'),
    ('bet_settlement', 2, 'Bet settlement', 'Расчёт ставок', 'Rozliczenie zakładów', 24, 48, 'trading'),
    ('account_access', 3, 'Account access and registration', 'Доступ к аккаунту и регистрация', 'Dostęp do konta i rejestracja', 24, 24, 'support'),
    ('technical', 4, 'Technical faults and bugs', 'Технические сбои и ошибки', 'Błędy techniczne', 24, 48, 'tech'),
    ('support_quality', 5, 'Support service quality', 'Качество поддержки', 'Jakość obsługi', 24, 48, 'support'),
    ('rules', 6, 'Rules and terms', 'Правила и условия', 'Regulamin i zasady', 24, 48, 'support'),
    ('bonuses', 7, 'Bonuses and promotions', 'Бонусы и акции', 'Bonusy i promocje', 24, 48, 'marketing'),
    ('other', 99, 'Other', 'Другое', 'Inne', 24, 48, 'support');
