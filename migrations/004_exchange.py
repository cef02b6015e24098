"""004: operator staff (OPS-1), deployments (DEP-1), tickets (TKT-1..2), billing (BIL-1),
notification markers (MAIL-1). Hand-written: only the tables of the exchange area."""


import peewee as pw
from peewee_migrate import Migrator


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    @migrator.create_model
    class StaffUser(pw.Model):
        id = pw.AutoField()
        email = pw.CharField(max_length=254, unique=True)
        first_name = pw.CharField(max_length=100)
        last_name = pw.CharField(max_length=100, default='')
        password_hash = pw.CharField(max_length=255, null=True)
        is_active = pw.BooleanField(default=True)
        tfa_state = pw.CharField(max_length=10, default='inactive')
        auth_version = pw.IntegerField(default=1)
        created_at = pw.DateTimeField()
        last_login_at = pw.DateTimeField(null=True)

        class Meta:
            table_name = "staff_user"

    @migrator.create_model
    class StaffCode(pw.Model):
        id = pw.AutoField()
        user = pw.ForeignKeyField(column_name='user_id', field='id', model=migrator.orm['staff_user'], on_delete='CASCADE')
        attempt = pw.CharField(index=True, max_length=64)
        code_hash = pw.CharField(max_length=64)
        created_at = pw.DateTimeField()
        expires_at = pw.DateTimeField()
        failed_attempts = pw.IntegerField(default=0)
        used_at = pw.DateTimeField(null=True)
        invalidated_at = pw.DateTimeField(null=True)

        class Meta:
            table_name = "staff_code"

    @migrator.create_model
    class StaffTrustedBrowser(pw.Model):
        id = pw.AutoField()
        user = pw.ForeignKeyField(column_name='user_id', field='id', model=migrator.orm['staff_user'], on_delete='CASCADE')
        token_hash = pw.CharField(max_length=64, unique=True)
        browser = pw.CharField(max_length=120)
        ip = pw.CharField(max_length=64)
        created_at = pw.DateTimeField()
        last_used_at = pw.DateTimeField()
        expires_at = pw.DateTimeField()
        revoked_at = pw.DateTimeField(null=True)

        class Meta:
            table_name = "staff_trusted_browser"

    @migrator.create_model
    class Deployment(pw.Model):
        id = pw.AutoField()
        account = pw.ForeignKeyField(column_name='account_id', field='id', model=migrator.orm['account'], on_delete='CASCADE')
        site = pw.ForeignKeyField(column_name='site_id', field='id', model=migrator.orm['site'], null=True, on_delete='SET NULL')
        kind = pw.CharField(max_length=20)
        reference = pw.CharField(max_length=30, unique=True)
        title = pw.CharField(max_length=200, default='')
        scheduled_date = pw.DateField(null=True)
        slot = pw.CharField(max_length=10, null=True)
        status = pw.CharField(max_length=12, default='requested', index=True)
        numbers = pw.TextField(default='')
        created_at = pw.DateTimeField()
        updated_at = pw.DateTimeField()

        class Meta:
            table_name = "deployment"
            indexes = [(('account', 'status'), False)]

    @migrator.create_model
    class DeploymentEvent(pw.Model):
        id = pw.AutoField()
        deployment = pw.ForeignKeyField(column_name='deployment_id', field='id', model=migrator.orm['deployment'], on_delete='CASCADE')
        status = pw.CharField(max_length=12)
        change = pw.CharField(max_length=20)
        scheduled_date = pw.DateField(null=True)
        slot = pw.CharField(max_length=10, null=True)
        note = pw.CharField(max_length=300, default='')
        staff = pw.ForeignKeyField(column_name='staff_id', field='id', model=migrator.orm['staff_user'], null=True, on_delete='SET NULL')
        created_at = pw.DateTimeField()

        class Meta:
            table_name = "deployment_event"

    @migrator.create_model
    class Ticket(pw.Model):
        id = pw.AutoField()
        account = pw.ForeignKeyField(column_name='account_id', field='id', model=migrator.orm['account'], on_delete='CASCADE')
        subject = pw.CharField(max_length=200)
        status = pw.CharField(max_length=10, default='open', index=True)
        created_by = pw.ForeignKeyField(column_name='created_by_id', field='id', model=migrator.orm['user'], null=True, on_delete='SET NULL')
        assigned_to = pw.ForeignKeyField(column_name='assigned_to_id', field='id', model=migrator.orm['staff_user'], null=True, on_delete='SET NULL')
        created_at = pw.DateTimeField()
        updated_at = pw.DateTimeField()
        closed_at = pw.DateTimeField(null=True)

        class Meta:
            table_name = "ticket"
            indexes = [(('account', 'status'), False)]

    @migrator.create_model
    class TicketMessage(pw.Model):
        id = pw.AutoField()
        ticket = pw.ForeignKeyField(column_name='ticket_id', field='id', model=migrator.orm['ticket'], on_delete='CASCADE')
        author_user = pw.ForeignKeyField(column_name='author_user_id', field='id', model=migrator.orm['user'], null=True, on_delete='SET NULL')
        author_staff = pw.ForeignKeyField(column_name='author_staff_id', field='id', model=migrator.orm['staff_user'], null=True, on_delete='SET NULL')
        body = pw.TextField()
        created_at = pw.DateTimeField()

        class Meta:
            table_name = "ticket_message"

    @migrator.create_model
    class Attachment(pw.Model):
        id = pw.AutoField()
        account = pw.ForeignKeyField(column_name='account_id', field='id', model=migrator.orm['account'], on_delete='CASCADE')
        message = pw.ForeignKeyField(column_name='message_id', field='id', model=migrator.orm['ticket_message'], null=True, on_delete='CASCADE')
        uploader = pw.ForeignKeyField(column_name='uploader_id', field='id', model=migrator.orm['user'], null=True, on_delete='SET NULL')
        pending_key = pw.CharField(max_length=64, null=True, index=True)
        filename = pw.CharField(max_length=150)
        stored_name = pw.CharField(max_length=64, unique=True)
        content_type = pw.CharField(max_length=60)
        size = pw.IntegerField()
        created_at = pw.DateTimeField()

        class Meta:
            table_name = "attachment"

    @migrator.create_model
    class Order(pw.Model):
        id = pw.AutoField()
        account = pw.ForeignKeyField(column_name='account_id', field='id', model=migrator.orm['account'], on_delete='CASCADE')
        reference = pw.CharField(max_length=30, unique=True)
        title = pw.CharField(max_length=200)
        status = pw.CharField(max_length=12, default='received', index=True)
        amount_cents = pw.BigIntegerField(default=0)
        created_at = pw.DateTimeField()
        updated_at = pw.DateTimeField()

        class Meta:
            table_name = "order"

    @migrator.create_model
    class Invoice(pw.Model):
        id = pw.AutoField()
        account = pw.ForeignKeyField(column_name='account_id', field='id', model=migrator.orm['account'], on_delete='CASCADE')
        order = pw.ForeignKeyField(column_name='order_id', field='id', model=migrator.orm['order'], null=True, on_delete='SET NULL')
        number = pw.CharField(max_length=30, unique=True)
        label = pw.CharField(max_length=200)
        issued_on = pw.DateField()
        due_on = pw.DateField()
        amount_cents = pw.BigIntegerField()
        paid_cents = pw.BigIntegerField(default=0)
        created_at = pw.DateTimeField()

        class Meta:
            table_name = "invoice"

    @migrator.create_model
    class Payment(pw.Model):
        id = pw.AutoField()
        account = pw.ForeignKeyField(column_name='account_id', field='id', model=migrator.orm['account'], on_delete='CASCADE')
        invoice = pw.ForeignKeyField(column_name='invoice_id', field='id', model=migrator.orm['invoice'], on_delete='CASCADE')
        amount_cents = pw.BigIntegerField()
        received_on = pw.DateField()
        method = pw.CharField(max_length=30, default='virement')
        staff = pw.ForeignKeyField(column_name='staff_id', field='id', model=migrator.orm['staff_user'], null=True, on_delete='SET NULL')
        created_at = pw.DateTimeField()

        class Meta:
            table_name = "payment"

    @migrator.create_model
    class CreditLimit(pw.Model):
        id = pw.AutoField()
        account = pw.ForeignKeyField(column_name='account_id', field='id', model=migrator.orm['account'], on_delete='CASCADE', unique=True)
        limit_cents = pw.BigIntegerField()
        updated_at = pw.DateTimeField()

        class Meta:
            table_name = "credit_limit"

    @migrator.create_model
    class Notification(pw.Model):
        id = pw.AutoField()
        key = pw.CharField(max_length=120)
        to_addr = pw.CharField(max_length=254)
        email = pw.ForeignKeyField(column_name='email_id', field='id', model=migrator.orm['outbound_email'], null=True, on_delete='SET NULL')
        created_at = pw.DateTimeField()

        class Meta:
            table_name = "notification"
            indexes = [(('key', 'to_addr'), True)]


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    for name in ('notification', 'credit_limit', 'payment', 'invoice', 'order', 'attachment',
                 'ticket_message', 'ticket', 'deployment_event', 'deployment',
                 'staff_trusted_browser', 'staff_code', 'staff_user'):
        migrator.remove_model(name)
