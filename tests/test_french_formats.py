"""French small words: « de » elided before a vowel, counts agreeing in number (0 and 1 singular)."""

import pytest

from rendering.formats import counted, of_place


@pytest.mark.parametrize(("name", "said"), [("Villers-lès-Exemple", "de Villers-lès-Exemple"),
                                            ("Épinal", "d'Épinal"), ("Auxerre", "d'Auxerre"),
                                            ("Hérouville", "d'Hérouville"), ("Metz", "de Metz")])
def test_de_is_elided_before_a_vowel(name: str, said: str) -> None:
    assert of_place(name) == said


@pytest.mark.parametrize(("count", "said"), [(0, "0 incident"), (1, "1 incident"), (2, "2 incidents")])
def test_counts_agree(count: int, said: str) -> None:
    assert counted(count, "incident") == said
    assert counted(count, "message refusé", "messages refusés").endswith("refusé" if count <= 1 else "refusés")
