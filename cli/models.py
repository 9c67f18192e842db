"""``rdnet models``: list the built-in models, or show one model's equations, parameters and presets."""

from __future__ import annotations

import click

from rdnet.errors import ConfigError


@click.command("models")
@click.argument("name", required=False)
@click.option("--model-file", "model_file", default=None, metavar="FILE.toml",
              help="Show a model file (checked as simulate would) instead of a built-in model.")
@click.option("--toml", "as_toml", is_flag=True,
              help="Print the model's declaration (its model file), e.g. to start your own from it.")
def command(name, model_file, as_toml):
    """List the models, or show one: equations, parameters with units, presets.

    Every model, built in or yours, is a model file (TOML; see docs/models.md):
    species, parameters, diffusion and reaction expressions, optional presets and
    initial conditions. Pass --model-file FILE.toml to simulate or stability to use
    your own.

    \b
    Examples:
      rdnet models
      rdnet models gray-scott
      rdnet models brusselator --toml > my_model.toml
      rdnet models --model-file my_model.toml
    """
    from rd_classic.models import MODELS, builtin_declaration, load_model_file

    if name is not None and model_file is not None:
        raise ConfigError("give a model NAME or --model-file, not both")
    if name is None and model_file is None:
        if as_toml:
            raise ConfigError("--toml needs a model NAME or --model-file")
        _list(MODELS)
        return
    declaration = load_model_file(model_file) if model_file is not None else builtin_declaration(name)
    if as_toml:
        click.echo(declaration.text, nl=not declaration.text.endswith("\n"))
        return
    _check_presets(declaration)
    _show(declaration)


def _check_presets(declaration) -> None:
    """Refuse a model whose presets (the defaults among them) give parameters that simulate would refuse."""
    from rd_classic.models import get_model
    from rd_classic.presets import presets_of

    for preset in presets_of(declaration).values():
        try:
            get_model(declaration, **preset.parameters)
        except ConfigError as error:
            raise ConfigError(f"{declaration.origin}: preset {preset.name!r}: {error}") from None


def _list(models) -> None:
    rows = [(name, ", ".join(models[name].species), ", ".join(models[name].parameter_names),
             models[name].description) for name in sorted(models)]  # fmt: skip
    widths = [max(len(row[i]) for row in rows + [("name", "species", "parameters", "")]) for i in range(3)]
    header = ("name", "species", "parameters", "description")
    click.echo("  ".join(text.ljust(width) for text, width in zip(header, widths)) + "  " + header[3])
    for row in rows:
        click.echo("  ".join(text.ljust(width) for text, width in zip(row, widths)) + "  " + row[3])
    click.echo("\nShow one with 'rdnet models NAME'; write your own model file: docs/models.md.")


def _show(declaration) -> None:
    from rd_classic.presets import default_preset, presets_of

    click.echo(f"{declaration.name}: {declaration.description}" if declaration.description else declaration.name)
    if declaration.source:
        click.echo(f"source: {declaration.source}")
    click.echo("\nequations:")
    width = max(len(name) for name in declaration.species)
    for species in declaration.species:
        diffusion = declaration.diffusion[species].canonical
        if not diffusion.replace(".", "").replace("_", "").isalnum():  # a product or a sum: in parentheses
            diffusion = f"({diffusion})"
        long_name = declaration.long_names.get(species)
        note = f"    ({long_name})" if long_name else ""
        click.echo(f"  d{species}/dt{' ' * (width - len(species))} = {declaration.reaction[species].text} "
                   f"+ {diffusion}*laplacian({species}){note}")  # fmt: skip
    click.echo("\nparameters:" + ("" if declaration.parameters else " none"))
    rows = [(parameter.name, f"{parameter.default:g}", parameter.units, parameter.description)
            for parameter in declaration.parameters]  # fmt: skip
    widths = [max((len(row[i]) for row in rows), default=0) for i in range(3)]
    for row in rows:
        click.echo("  " + "  ".join(text.ljust(width) for text, width in zip(row, widths)) + "  " + row[3])
    if declaration.constraints:
        click.echo("constraints: " + ", ".join(condition.text for condition in declaration.constraints))
    if declaration.steady_states:
        click.echo(f"steady states: {len(declaration.steady_states)} declared in closed form")
    else:
        click.echo("steady states: found from the equations (sympy, else a multi-start root search)")
    preset = default_preset(declaration)
    settings = ", ".join(f"{key}={value:g}" for key, value in preset.parameters.items())
    step = "80% of the stability limit" if preset.dt is None else f"{preset.dt:g}"
    click.echo(f"\ndefault preset: {preset.name}" + (f" ({settings})" if settings else "")
               + f": dx = {preset.dx:g}, dt = {step}, t = {preset.time:g}, initial {preset.initial_condition}")  # fmt: skip
    if preset.description:
        click.echo(f"  {preset.description}")
    others = [name for name in presets_of(declaration) if name != preset.name]
    if others:
        click.echo("other presets: " + ", ".join(others))
    if declaration.initial is not None:
        click.echo("initial (expr): " + ", ".join(f"{name} = {declaration.initial[name].text}"
                                                  for name in declaration.species)
                   + (f", noise {declaration.initial_noise:g}" if declaration.initial_noise else ""))  # fmt: skip
