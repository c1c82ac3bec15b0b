/** @type {import('next').NextConfig} */
const nextConfig = {
  // pg and the Prisma adapter load native-ish modules at runtime; keep them out of the server bundle.
  serverExternalPackages: ["pg", "@prisma/adapter-pg", "@kubernetes/client-node", "pg-boss"],
  experimental: {
    // forbidden() renders app/forbidden.tsx with a real 403 status.
    authInterrupts: true,
  },
  poweredByHeader: false,
  async headers() {
    return [
      {
        source: "/(.*)",
        headers: [
          { key: "X-Frame-Options", value: "DENY" },
          { key: "X-Content-Type-Options", value: "nosniff" },
          { key: "Referrer-Policy", value: "same-origin" },
        ],
      },
    ];
  },
};

export default nextConfig;
