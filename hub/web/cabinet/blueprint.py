"""The owner's cabinet's blueprint and the audit log's action names: what every page module of
the cabinet registers on (kept apart from the package so that a page never imports the others)."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("cabinet", __name__, url_prefix="/cabinet", template_folder="templates")

ACTIONS = {"program.update": "изменены настройки программы", "bonuses.manual": "ручное начисление",
           "bonuses.gift": "подарок", "bonuses.debit": "ручное списание", "user.create": "приглашён пользователь",
           "user.update": "изменён пользователь", "customer.register": "зарегистрирован клиент (касса)",
           "sale.commit": "продажа (касса)", "sale.return": "возврат (касса)",
           "customer.consents": "изменены согласия (личный кабинет)"}
ACTIONS.update({"export.create": "выгрузка в Excel", "store.save": "сохранён магазин",
                "cashier.save": "сохранён кассир", "apikey.create": "выпущен API-ключ",
                "apikey.revoke": "отозван API-ключ", "inbox.retry": "повтор входящего события",
                "template.update": "изменён шаблон сообщения", "notify.settings": "изменены тихие часы"})
ACTIONS.update({"customer.update": "изменён профиль клиента", "customer.block": "клиент заблокирован",
                "customer.unblock": "клиент разблокирован", "segment.create": "сохранён сегмент клиентов"})

