/** What owners and admins are told about today's budget: the 80 % and 100 % alerts, and a stop after an overshoot. */
export interface BudgetNoticeData {
  alerts: { thresholdPercent: number; costLabel: string; limitLabel: string }[];
  overshootLabel: string | null;
  resumesLabel: string;
}

export function BudgetNotice({ notice }: { notice: BudgetNoticeData | null }) {
  if (!notice || (!notice.alerts.length && !notice.overshootLabel)) return null;
  const highest = notice.alerts.at(-1);
  return (
    <div className="notice notice--warning" role="status" data-testid="budget-notice">
      {highest ? (
        <p>
          {highest.thresholdPercent >= 100
            ? `Today's spend reached the daily limit: ${highest.costLabel} of ${highest.limitLabel}. New episodes wait until ${notice.resumesLabel}.`
            : `Today's spend passed ${highest.thresholdPercent} % of the daily limit: ${highest.costLabel} of ${highest.limitLabel}.`}
        </p>
      ) : null}
      {notice.overshootLabel ? (
        <p>
          A generation cost {notice.overshootLabel} more than was set aside for it, so nothing more starts today. Episodes
          resume {notice.resumesLabel}.
        </p>
      ) : null}
    </div>
  );
}
