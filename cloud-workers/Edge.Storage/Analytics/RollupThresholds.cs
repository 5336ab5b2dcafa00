namespace Edge.Storage.Analytics;

/// <summary>
/// The fixed thresholds the hourly rollups count against. Fixed, not settings: an hour is summed up once, when its
/// readings are stored, so a threshold that changed later would make old and new hours disagree.
/// </summary>
public static class RollupThresholds
{
    /// <summary>
    /// "Large leak", L/min: the default of the <c>cpap.leak_high</c> alert (docs/alerts.md). A per-device config
    /// threshold is not used: it may change after the hour was summed up.
    /// </summary>
    public const double LargeLeakLpm = 30;

    /// <summary>
    /// The oxygen purity floor, %: the default of the <c>oxygen.purity_low</c> alert (<c>Alerts:OxygenPurityFloorPct</c>;
    /// docs/alerts.md says why 85 %). Changing that setting does not change the analytics.
    /// </summary>
    public const double PurityFloorPct = 85;

    /// <summary>
    /// "Long QT", ms of QTc (Bazett). The usual limits are sex-specific (above 470 ms in men, 480 ms in women: Goldenberg,
    /// Moss, Zareba, QT interval: how to measure it and what is "normal", J Cardiovasc Electrophysiol 2006;17:333-6); the
    /// payload carries no sex, so the limit is 500 ms, above which the risk of torsade de pointes rises markedly whatever
    /// the sex (Drew et al., AHA/ACCF scientific statement on the prevention of torsade de pointes in hospital settings,
    /// Circulation 2010;121:1047-60).
    /// </summary>
    public const double LongQtcMs = 500;
}
