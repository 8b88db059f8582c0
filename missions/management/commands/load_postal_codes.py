from django.core.management.base import BaseCommand, CommandError

from missions import postcodes


class Command(BaseCommand):
    help = (
        "Load postal codes and town-centre coordinates (used to place missions BAN cannot "
        "geocode, and volunteers by their postal code). Source: La Poste's 'Base officielle "
        "des codes postaux' on data.gouv.fr (semicolon CSV with a coordonnees_gps column); "
        "a simple 'code,city,latitude,longitude' CSV works too. The full file (~39,000 rows) "
        "loads in seconds; reloading updates coordinates in place. Without a path, loads a "
        "small bundled sample (big cities, approximate coordinates) for development."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "path",
            nargs="?",
            default=str(postcodes.SAMPLE),
            help="CSV file (default: the bundled sample, missions/data/postal_codes_sample.csv)",
        )

    def handle(self, *args, path, **options):
        try:
            count = postcodes.load(path)
        except FileNotFoundError as err:
            raise CommandError(f"No such file: {path}") from err
        except ValueError as err:
            raise CommandError(str(err)) from err
        if count == 0:
            self.stderr.write(
                self.style.WARNING(f"No row with coordinates in {path}: nothing loaded.")
            )
        self.stdout.write(self.style.SUCCESS(f"Loaded {count} postal codes from {path}."))
