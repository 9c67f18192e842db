"""Figures of the solvable GAN: the microscopic weights show which features were learnt, the phase diagram
shows undetermined cells."""

from __future__ import annotations

import numpy as np
import pytest

from rdnet.gan_dynamics import GanModel, initial_state
from rdnet.gan_dynamics.phases import PHASES, linear_boundaries
from rdnet.gan_dynamics.run import run_dataset
from rdnet.plotting.gan_dynamics import overlaps_figure, phase_diagram_figure, weights_figure


@pytest.fixture(scope="module")
def collapse():
    """d = 2, η = 4: a short mode-collapse run (feature 2 learnt, feature 1 not)."""
    model = GanModel.copy_model(tau_d=0.2, tau_g=0.04, lambdas=(3.0, 5.0), noise=4.0)
    return run_dataset(model, initial_state(2), dimension=400, time=150.0, records=31, replicas=2, seed=2)


def test_weights_figure_has_a_panel_per_vector_and_feature(collapse):
    figure = weights_figure(collapse)
    titles = [ax.get_title() for ax in figure.axes]
    assert len(titles) == 3 * 2  # rows w, v_1, v_2; columns u_1, u_2
    assert titles[0].startswith("u_1ᵀw") and titles[3].startswith("u_2ᵀv_1") and titles[5].startswith("u_2ᵀv_2")
    assert "feature 2, λ = 5" in figure.axes[5].get_xlabel()
    assert "generator column v_2" in figure.axes[4].get_ylabel()


def test_weights_figure_shows_the_collapse(collapse):
    """The dashed slope of each panel is the overlap: v_2 has learnt u_2, v_1 has not learnt u_1."""
    figure = weights_figure(collapse)

    def slope(ax):
        (line,) = [line for line in ax.get_lines() if line.get_linestyle() == "--"]
        x, y = line.get_data()
        return (y[-1] - y[0]) / (x[-1] - x[0])

    learnt, ignored = slope(figure.axes[5]), slope(figure.axes[2])
    assert learnt > 0.6 and abs(ignored - 0.1) < 0.05
    # the dots follow the slope: correlation of √n·v_2 with √n·u_2 at the last snapshot ≈ the overlap
    u = collapse["feature_vectors"].values[:, 1]
    v = collapse["generator_weights"].isel(snapshot_time=-1, feature=1).values
    assert np.corrcoef(np.tile(u, v.shape[0]), v.ravel())[0, 1] > 0.6


def test_overlaps_figure_title_gives_the_long_horizon_phase(collapse):
    title = overlaps_figure(collapse)._suptitle.get_text()
    assert "linear theory mode-collapse" in title and "long-horizon ODE mode-collapse by t = 600" in title


def test_phase_diagram_marks_undetermined_and_informative_cells():
    base = GanModel.copy_model(tau_d=0.2, tau_g=0.04, lambdas=(3.0,), noise=1.0)
    axes = {"noise": np.array([0.5, 2.0, 3.0]), "tau_g": np.array([0.01, 0.3])}
    codes = np.array([[PHASES.index("undetermined"), 1, 1], [2, 2, 1]])
    informative = np.array([[False, False, False], [True, False, False]])
    figure = phase_diagram_figure("noise", axes["noise"], "tau_g", axes["tau_g"], codes,
                                  linear_boundaries(base, axes), informative_fixed_point=informative)
    labels = [text.get_text() for text in figure.axes[0].get_legend().get_texts()]
    assert any("undetermined" in label for label in labels)
    assert any("informative fixed point" in label for label in labels)
