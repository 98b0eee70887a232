using Anneal.Tuning;

namespace Anneal.Tests.Tuning;

public class StudyFileTests
{
    // The example of issue 15, verbatim.
    private const string IssueExample = """
        name: wsd-gpt-tiny
        objective: {train: {model: gpt-tiny, data: brown, steps: 2000, metric: val_loss}}
        schedule: "wsd(peak={peak}, total=2000, warmup=100, decay={decay}, shape={shape})"
        space: {peak: {log_uniform: [3e-4, 1e-2]}, decay: {uniform: [0.05, 0.6]}, shape: {choice: [linear, sqrt]}}
        sampler: gp
        pruner: forecast
        """;

    [Fact]
    public void The_issue_example_is_enough()
    {
        var s = StudyFile.Parse(IssueExample, "wsd.yaml");
        s.Name.ShouldBe("wsd-gpt-tiny");
        var t = s.Objective.ShouldBeOfType<TrainObjectiveSpec>();
        (t.Model, t.Data, t.Steps, t.Metric).ShouldBe(("gpt-tiny", "brown", 2000L, "val_loss"));
        s.Space.Parameters.Select(p => p.Name).ShouldBe(["peak", "decay", "shape"]);
        s.Space.Parameters[0].Domain.ShouldBe(new LogUniformDomain(3e-4, 1e-2));
        s.Space.Parameters[2].Domain.ShouldBe(new CategoricalDomain(["linear", "sqrt"]));
        (s.Sampler.Name, s.Pruner.Name).ShouldBe(("gp", "forecast"));
    }

    [Fact]
    public void Command_objective_with_options()
    {
        var s = StudyFile.Parse("""
            name: ext
            objective:
              command: [python3, train.py, --lr, "{lr}"]
              log: runs/{trial}/log.csv
              steps: 500
              metric: loss
            space:
              lr: {log_uniform: [1e-4, 1e-1]}
              width: {log_int: [64, 512]}
            sampler: {gp: {acquisition: noisy_ei}}
            pruner: {asha: {min_resource: 50, reduction_factor: 3}}
            budget: {trials: 12}
            """, "ext.yaml");
        var c = s.Objective.ShouldBeOfType<CommandObjectiveSpec>();
        c.Command.ShouldBe(["python3", "train.py", "--lr", "{lr}"]);
        s.Trials.ShouldBe(12);
        s.Sampler.Word("acquisition", "log_ei").ShouldBe("noisy_ei");
        s.Pruner.Number("reduction_factor", 4, "ext.yaml").ShouldBe(3);
    }

    [Theory]
    [InlineData("name: a\nobjective: {train: {model: gpt-tiny, data: brown, steps: 2000, metric: val_loss}}\nspace: {peak: {log_uniform: [0, 1e-2]}}\n",
        "s.yaml:3: parameter peak: log_uniform needs low > 0, got 0; use uniform for ranges that include 0")]
    [InlineData("name: a\nobjective: {train: {model: gpt-tiny, data: brown, steps: 2000, metric: val_loss}}\nschedule: \"cosine(peak={lr}, total=2000)\"\nspace: {peak: {log_uniform: [1e-4, 1e-2]}}\n",
        "s.yaml:3: schedule: placeholder {lr} names no parameter of the search space (it has peak); add it under space: or fix the name")]
    [InlineData("name: a\nobjective: {train: {model: gpt-tiny, data: brown, steps: 2000, metric: val_loss}}\nspace: {peak: {log_uniform: [1e-4, 1e-2]}}\nsampler: bayes\n",
        "s.yaml:4: unknown sampler 'bayes'; use one of random, grid, sobol, gp")]
    [InlineData("name: a\nobjective: {train: {model: gpt-tiny, data: brown, steps: 2000, metric: val_loss}}\nspace: {peak: {log_uniform: [1e-4, 1e-2]}}\nprunner: asha\n",
        "s.yaml:4: unknown key 'prunner' in the study; known keys: name, objective, schedule, optimizer, space, sampler, pruner, budget, seed, direction")]
    [InlineData("name: a\nobjective: {train: {model: gpt-tiny, data: brown, steps: 2000, metric: accuracy}}\nspace: {peak: {log_uniform: [1e-4, 1e-2]}}\n",
        "s.yaml:2: metric must be val_loss or loss, got 'accuracy'")]
    [InlineData("name: a\nobjective: {train: {model: gpt-tiny, data: brown, steps: 2000, metric: val_loss}}\nspace: {peak: {uniform: [1e-2, 1e-4]}}\n",
        "s.yaml:3: parameter peak: uniform needs low < high, got [1e-2, 1e-4]")]
    [InlineData("name: a\nobjective: {train: {model: gpt-tiny, data: brown, steps: 2000, metric: val_loss}}\nspace: {peak: {log_uniform: [1e-4, 1e-2]}}\nsampler: {gp: {acqusition: noisy_ei}}\n",
        "s.yaml:4: unknown sampler gp option 'acqusition'; known options: startup, acquisition, kernel, prior")]
    [InlineData("name: a\nobjective: {train: {model: gpt-tiny, data: brown, steps: 2000, metric: val_loss}}\nspace: {peak: {log_uniform: [1e-4, 1e-2]}}\npruner: {none: {level: 0.9}}\n",
        "s.yaml:4: pruner none takes no options, got 'level'; write pruner: none")]
    [InlineData("name: a\nobjective: {train: {model: gpt-tiny, data: brown, steps: 2000, metric: val_loss}}\nspace: {peak: {log_uniform: [1e-4, 1e-2]}}\npruner: {forecast: {risk: 0.7}}\n",
        "s.yaml:4: pruner forecast: forecast pruner risk must be a probability above 0 and at most 0.5 (e.g. 0.1), got 0.7")]
    [InlineData("name: a\nobjective: {train: {model: gpt-tiny, data: brown, steps: 2000, metric: val_loss}}\nspace: {peak: {log_uniform: [1e-4, 1e-2]}}\npruner: {forecast: {risk: often}}\n",
        "s.yaml:4: forecast option risk must be a number, got 'often'")]
    [InlineData("name: a\nobjective: {train: {model: gpt-tiny, data: brown, steps: 2000, metric: val_loss}}\nspace: {peak: {log_uniform: [1e-4, 1e-2]}}\npruner: {forecast: {level: 1.5}}\n",
        "s.yaml:4: pruner forecast: forecast pruner level must be between 0 and 1 (e.g. 0.95), got 1.5")]
    [InlineData("name: a\nobjective: {train: {model: gpt-tiny, data: brown, steps: 2000, metric: val_loss}}\nspace: {peak: {log_uniform: [1e-4, 1e-2]}}\npruner: {forecast: {risks: 0.1}}\n",
        "s.yaml:4: unknown pruner forecast option 'risks'; known options: law, level, prior_trials, risk")]
    [InlineData("name: a\nobjective: {train: {model: gpt-tiny, data: brown, steps: 2000, metric: val_loss}}\n",
        "s.yaml:1: missing 'space'; add e.g. space: {peak: {log_uniform: [3e-4, 1e-2]}}")]
    public void Bad_study_files_get_one_message_naming_the_line_and_the_fix(string text, string message)
    {
        Should.Throw<InputException>(() => StudyFile.Parse(text, "s.yaml")).Message.ShouldBe(message);
    }

    [Fact]
    public void A_schedule_that_does_not_parse_is_refused_before_any_trial()
    {
        var e = Should.Throw<InputException>(() => StudyFile.Parse("name: a\nobjective: {train: {model: gpt-tiny, data: brown, steps: 2000, metric: val_loss}}\nschedule: \"wsd(peak={peak}, total=2000, decay=2)\"\nspace: {peak: {log_uniform: [1e-4, 1e-2]}}\n", "s.yaml"));
        e.Message.ShouldStartWith("s.yaml:3: schedule (with peak=0.001");
    }

    [Fact]
    public void Broken_yaml_names_the_line()
    {
        var e = Should.Throw<InputException>(() => StudyFile.Parse("name: a\nspace: {peak: [1, 2\nsampler: gp\n", "s.yaml"));
        e.Message.ShouldStartWith("s.yaml:");
        e.Message.ShouldContain("not valid YAML");
    }

    [Fact]
    public void The_gp_kernel_and_prior_are_study_options()
    {
        const string head = "name: a\nobjective: {train: {model: gpt-tiny, data: brown, steps: 2000, metric: val_loss}}\nspace: {peak: {log_uniform: [1e-4, 1e-2]}, decay: {uniform: [0.1, 0.5]}}\n";
        var gp = StudyComponents.Sampler(StudyFile.Parse(head + "sampler: {gp: {kernel: additive, prior: dimension_scaled}}\n", "s.yaml")).ShouldBeOfType<GpSampler>();
        (gp.Additive, gp.DimensionScaledPrior).ShouldBe((true, true));
        var plain = StudyComponents.Sampler(StudyFile.Parse(head + "sampler: gp\n", "s.yaml")).ShouldBeOfType<GpSampler>();
        (plain.Additive, plain.DimensionScaledPrior).ShouldBe((false, false));
        Should.Throw<InputException>(() => StudyComponents.Sampler(StudyFile.Parse(head + "sampler: {gp: {kernel: rbf}}\n", "s.yaml")))
            .Message.ShouldBe("s.yaml:4: gp kernel must be matern or additive, got 'rbf'");
    }

    /// <summary>
    /// The forecast pruner's risk is a study option, read by the code that builds the pruner (its only list of options):
    /// the value reaches the pruner, and the default is half of 1 - level.
    /// </summary>
    [Fact]
    public void The_forecast_risk_is_a_study_option()
    {
        const string head = "name: a\nobjective: {train: {model: gpt-tiny, data: brown, steps: 2000, metric: val_loss}}\nspace: {peak: {log_uniform: [1e-4, 1e-2]}}\n";
        StudyComponents.Pruner(StudyFile.Parse(head + "pruner: {forecast: {risk: 0.3}}\n", "s.yaml")).ShouldBeOfType<ForecastPruner>().Risk.ShouldBe(0.3);
        StudyComponents.Pruner(StudyFile.Parse(head + "pruner: {forecast: {level: 0.9}}\n", "s.yaml")).ShouldBeOfType<ForecastPruner>().Risk.ShouldBe(0.05, 1e-15);
        StudyComponents.KnownOptions("pruner", "asha").ShouldBe(["min_resource", "reduction_factor", "min_early_stopping_rate"]);
        StudyComponents.KnownOptions("sampler", "random").ShouldBeEmpty();
    }
}
