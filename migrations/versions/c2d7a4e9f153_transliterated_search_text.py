"""Transliterated matching text: every letter folded, not only the accented ones

`name_norm` (contacts, companies, deals: name resolution, `q`, sort by name) and `search_text`
(tasks, activities: `q`) were folded by decomposing accents, so letters without a decomposition
stayed as they were: "Søren", "Łukasiewicz", "Đorđe", "Æsa" could not be found by "soren",
"lukasiewicz", "dorde", "aesa". They are folded now by `crm.services.text.normalize`, which
transliterates (Unidecode). This folds the stored text of every existing row again with that
same function (`crm.services.refold`): rows read in id order, 1,000 at a time, only the
changed ones written. The search indexes follow the written rows (SQLite: the trigram tables'
triggers; PostgreSQL: the GIN and name indexes), and on PostgreSQL the trigram statistics are
gathered again (ANALYZE).

No schema change. Downgrade leaves the text folded the new way: the older code reads it, and
finds a letter only the new rule folds (ø, ł, đ, æ, ...) by its transliteration only.

Revision ID: c2d7a4e9f153
Revises: b7d41c2e9f03
Create Date: 2026-12-02 02:00:00

"""
import logging

from alembic import op

from crm.services.refold import refold


# revision identifiers, used by Alembic.
revision = 'c2d7a4e9f153'
down_revision = 'b7d41c2e9f03'
branch_labels = None
depends_on = None

logger = logging.getLogger('alembic.runtime.migration')


def upgrade():
    refold(op.get_bind(), report=logger.info)


def downgrade():
    pass
