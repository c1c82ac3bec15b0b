"use client";

import { Area, Bar, BarChart, CartesianGrid, Cell, ComposedChart, Legend, Line, Tooltip, XAxis, YAxis } from "recharts";
import { axis, ChartFrame } from "@/components/charts/inventory-charts";
import type { CampaignReport } from "@/lib/campaigns/report";

/** The same colours as the decision badges. */
const decisionColors: Record<string, string> = { approve: "#10b981", shrink: "#d97706", revoke: "#b91c1c", undecided: "#94a3b8" };

export function DecisionsChart({ data }: { data: CampaignReport["decisions"] }) {
  return (
    <ChartFrame testId="decisions-chart" label={`Decisions: ${data.map((d) => `${d.count} ${d.decision}`).join(", ")}`}>
      <BarChart data={data} margin={{ left: 0, right: 8 }}>
        <CartesianGrid strokeDasharray="3 3" vertical={false} />
        <XAxis dataKey="decision" {...axis} interval={0} />
        <YAxis allowDecimals={false} {...axis} />
        <Tooltip cursor={{ fill: "#f1f5f9" }} />
        <Bar dataKey="count" name="Items" radius={[4, 4, 0, 0]} isAnimationActive={false}>
          {data.map((d) => (
            <Cell key={d.decision} fill={decisionColors[d.decision]} />
          ))}
        </Bar>
      </BarChart>
    </ChartFrame>
  );
}

export function CompletionChart({ data }: { data: CampaignReport["completion"] }) {
  const last = data.findLast((point) => point.decided !== null);
  return (
    <ChartFrame
      testId="completion-chart"
      label={last ? `Completion: ${last.decided} of ${last.total} decided by ${last.day}; the chart runs to ${data.at(-1)?.day}` : "Completion: not launched"}
    >
      <ComposedChart data={data} margin={{ left: 0, right: 8 }}>
        <CartesianGrid strokeDasharray="3 3" vertical={false} />
        <XAxis dataKey="day" {...axis} minTickGap={24} />
        <YAxis allowDecimals={false} {...axis} />
        <Tooltip />
        <Legend height={24} />
        <Area type="stepAfter" dataKey="decided" name="Decided (cumulative)" stroke="#3b6cf6" fill="#3b6cf6" fillOpacity={0.2} isAnimationActive={false} />
        {/* A one-day campaign has no line to draw: its points show as dots. */}
        <Line type="stepAfter" dataKey="total" name="Items" stroke="#64748b" strokeDasharray="4 4" dot={data.length === 1 ? { strokeDasharray: "0", r: 3, fill: "#64748b" } : false} isAnimationActive={false} />
      </ComposedChart>
    </ChartFrame>
  );
}

export function OverdueByTeamChart({ data }: { data: CampaignReport["overdueByTeam"] }) {
  const rows = data.map((d) => ({ team: d.teamName ?? "Security team", overdue: d.overdue }));
  return (
    <ChartFrame
      testId="overdue-chart"
      label={`Overdue items by reviewer team: ${rows.map((d) => `${d.overdue} ${d.team}`).join(", ")}`}
      className="min-h-40"
      style={{ height: Math.max(160, rows.length * 36 + 40) }}
    >
      <BarChart data={rows} layout="vertical" margin={{ left: 8, right: 16 }}>
        <CartesianGrid strokeDasharray="3 3" horizontal={false} />
        <XAxis type="number" allowDecimals={false} {...axis} />
        <YAxis type="category" dataKey="team" width={140} {...axis} />
        <Tooltip cursor={{ fill: "#f1f5f9" }} />
        <Bar dataKey="overdue" name="Overdue" fill="#b91c1c" radius={[0, 4, 4, 0]} isAnimationActive={false} />
      </BarChart>
    </ChartFrame>
  );
}
