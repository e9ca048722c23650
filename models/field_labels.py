"""Each stored field in French, as the checks of the store name it to an auditor (models.attestation) and as an
error names a column it could not read (models.errors): a plain table, imported by both without loading the ORM."""

FIELD_LABELS = {
    "ref": "référence", "status": "état", "title": "titre", "description": "description",
    "declared_by": "partie déclarante", "municipality_insee": "commune", "reporter_name": "nom du déclarant",
    "reporter_email": "adresse du déclarant", "aware_at": "prise de connaissance", "occurred_at": "survenue",
    "declared_at": "date de déclaration", "categories": "catégories", "personal_data": "données personnelles",
    "schools": "écoles", "data_subjects": "personnes concernées", "records": "enregistrements",
    "proposed_scope": "portée proposée", "confirmed_scope": "portée arrêtée", "scope_reason": "motif de la portée",
    "closed_at": "clôture", "dismissed_at": "classement", "dismissal_reason": "motif du classement",
    "acknowledged_at": "accusé de réception", "acknowledged_by": "auteur de l'accusé de réception",
    "incident_id": "incident de rattachement", "kind": "nature", "owner": "titulaire", "anchor_at": "point de départ",
    "due_at": "échéance", "met_at": "date où elle a été remplie", "late_by_seconds": "retard",
    "waived_at": "levée", "waived_reason": "motif de la levée", "assessed_at": "date", "assessed_by": "auteur",
    "factors": "facteurs", "dpc": "DPC", "ei": "EI", "cb": "CB", "se": "score", "level": "gravité",
    "recommendation": "recommandation", "reasons": "raisons", "basis": "fondement", "data_categories": "catégories",
    "nature": "nature", "consequences": "conséquences", "measures": "mesures", "assessment_id": "évaluation",
    "decided_at": "date", "decided_by": "auteur", "notify_cnil": "réponse sur la notification à la CNIL",
    "subjects": "réponse sur l'information des personnes", "exemption": "exemption", "rationale": "motivation",
    "against_recommendation": "écart à la recommandation", "delay_reasons": "motifs du retard", "letter": "lettre",
    "filed_at": "date du dépôt", "reference": "référence", "complementary": "complémentaire",
    "recorded_by": "auteur", "informed_at": "date de l'information", "channel": "moyen",
    "party": "partie", "author": "auteur", "reported_at": "date du rapport", "content": "contenu",
    "filename": "nom du fichier", "content_type": "type", "size": "taille", "sha256": "empreinte",
    "added_by": "auteur", "added_at": "date d'ajout", "note": "note", "obligation_id": "obligation",
    "template": "modèle", "step": "étape", "recipient_name": "destinataire", "recipient_email": "adresse du "
    "destinataire", "recipient_party": "partie destinataire", "subject": "objet", "body_text": "texte",
    "body_html": "texte HTML", "attachment_ics": "invitation", "sent_at": "date d'envoi",
    "transport": "moyen d'envoi", "message_id": "identifiant du message (Message-ID)", "files": "fichiers joints",
}
