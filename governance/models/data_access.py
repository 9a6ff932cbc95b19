from django.conf import settings
from django.db import models
from django.urls import reverse


class LegalBasis(models.TextChoices):
    """GDPR Art. 6(1)."""

    CONSENT = "consent", "Consent (a)"
    CONTRACT = "contract", "Contract (b)"
    LEGAL_OBLIGATION = "legal_obligation", "Legal obligation (c)"
    VITAL_INTERESTS = "vital_interests", "Vital interests (d)"
    PUBLIC_TASK = "public_task", "Public task (e)"
    LEGITIMATE_INTERESTS = "legitimate_interests", "Legitimate interests (f)"


class Purpose(models.Model):
    """A named purpose personal data may be used for, with the legal bases it may rest on."""

    name = models.CharField(max_length=150, unique=True)
    slug = models.SlugField(max_length=150, unique=True)
    description = models.TextField()
    allowed_legal_bases = models.JSONField(default=list)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ModelPurpose(models.Model):
    """The purpose a model serves: its training data must have been granted for this purpose."""

    model = models.OneToOneField(
        "catalog.RegisteredModel", on_delete=models.CASCADE, related_name="data_purpose"
    )
    purpose = models.ForeignKey(Purpose, on_delete=models.PROTECT, related_name="models")

    def __str__(self) -> str:
        return f"{self.model_id}: {self.purpose}"


class AccessStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SUBMITTED = "submitted", "Submitted"
    IN_REVIEW = "in_review", "In review"
    APPROVED = "approved", "Granted"
    REJECTED = "rejected", "Rejected"
    REVOKED = "revoked", "Revoked"
    EXPIRED = "expired", "Expired"
    WITHDRAWN = "withdrawn", "Withdrawn"


OPEN_STATUSES = (AccessStatus.SUBMITTED, AccessStatus.IN_REVIEW)
GRANT_STATUSES = (AccessStatus.APPROVED, AccessStatus.REVOKED, AccessStatus.EXPIRED)


class AccessRequest(models.Model):
    """A request to use datasets for a purpose until a date; once approved it is the grant."""

    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="access_requests"
    )
    team = models.ForeignKey(
        "catalog.Team", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    purpose = models.ForeignKey(Purpose, on_delete=models.PROTECT, related_name="requests")
    legal_basis = models.CharField(max_length=30, choices=LegalBasis.choices)
    justification = models.TextField()
    start_date = models.DateField()
    expiry_date = models.DateField()
    dpia_reference = models.CharField(max_length=100, blank=True)
    status = models.CharField(max_length=20, choices=AccessStatus.choices, default=AccessStatus.DRAFT)
    created_at = models.DateTimeField(auto_now_add=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True, help_text="When it was revoked or expired.")
    end_reason = models.TextField(blank=True)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reminder_sent_at = models.DateTimeField(null=True, blank=True)
    work_item = models.OneToOneField(
        "governance.WorkItem", on_delete=models.SET_NULL, null=True, blank=True, related_name="access_request"
    )
    datasets = models.ManyToManyField(
        "catalog.Dataset", through="governance.AccessRequestDataset", related_name="access_requests"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "expiry_date"], name="access_status_expiry"),
            models.Index(fields=["requester", "status"], name="access_requester"),
        ]

    def __str__(self) -> str:
        return f"Access #{self.pk} for {self.requester} ({self.get_status_display()})"

    def get_absolute_url(self) -> str:
        return reverse("governance-access:access-request-detail", args=[self.pk])


class AccessRequestDataset(models.Model):
    request = models.ForeignKey(AccessRequest, on_delete=models.CASCADE, related_name="dataset_entries")
    dataset = models.ForeignKey("catalog.Dataset", on_delete=models.PROTECT, related_name="access_entries")
    columns = models.JSONField(default=list, blank=True, help_text="Named columns; empty means all.")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["request", "dataset"], name="uniq_access_dataset")]

    def __str__(self) -> str:
        return f"{self.request_id}: {self.dataset_id}"


class StepKind(models.TextChoices):
    OWNER = "owner", "Data owner"
    COMPLIANCE = "compliance", "Compliance"


class StepStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"


class ApprovalStep(models.Model):
    """One approval the request needs: each dataset's owner (in any order), then compliance."""

    request = models.ForeignKey(AccessRequest, on_delete=models.CASCADE, related_name="steps")
    kind = models.CharField(max_length=20, choices=StepKind.choices)
    dataset = models.ForeignKey(
        "catalog.Dataset", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    approver = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="approval_steps",
        help_text="Who must decide; empty means any compliance officer.",
    )
    status = models.CharField(max_length=20, choices=StepStatus.choices, default=StepStatus.PENDING)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    reason = models.TextField(blank=True)

    class Meta:
        ordering = ["request", "kind", "id"]
        indexes = [models.Index(fields=["approver", "status"], name="step_approver")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} step of {self.request_id}"


class Campaign(models.Model):
    """A re-certification round: owners attest keep or revoke for every active grant by a deadline."""

    name = models.CharField(max_length=150)
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    started_at = models.DateTimeField(auto_now_add=True)
    deadline = models.DateField()
    revoke_unattested = models.BooleanField(default=False)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("governance-access:campaign-detail", args=[self.pk])


class Attestation(models.TextChoices):
    PENDING = "pending", "Not attested"
    KEEP = "keep", "Keep"
    REVOKE = "revoke", "Revoke"
    UNATTESTED = "unattested", "Missed the deadline"


class CampaignItem(models.Model):
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="items")
    grant = models.ForeignKey(AccessRequest, on_delete=models.CASCADE, related_name="campaign_items")
    dataset = models.ForeignKey("catalog.Dataset", on_delete=models.PROTECT, related_name="+")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="Who attests; empty means compliance (the dataset has no owner).",
    )
    decision = models.CharField(max_length=20, choices=Attestation.choices, default=Attestation.PENDING)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["campaign", "grant", "dataset"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "grant", "dataset"], name="uniq_campaign_item")
        ]

    def __str__(self) -> str:
        return f"{self.campaign_id}: grant {self.grant_id} / {self.dataset_id}"
