-- Fill Redis as a busy application's cache: ARGV[1] keys under five prefixes, in one call.
-- Sessions and rate counters have a TTL of 30 days; carts, product details and profiles none.
local total = tonumber(ARGV[1])
local month = 2592000
for i = 1, total do
  local kind = i % 10
  if kind < 4 then
    redis.call('SET', 'session:' .. string.format('%08x', i * 2654435761 % 4294967296), 'u' .. i, 'EX', month)
  elseif kind < 6 then
    redis.call('HSET', 'cart:' .. i, 'items', i % 7, 'total', i % 500)
  elseif kind < 8 then
    redis.call('SET', 'product:' .. i .. ':detail', '{"stock":' .. (i % 90) .. '}')
  elseif kind == 8 then
    redis.call('SET', 'user:' .. i .. ':profile', '{"name":"user ' .. i .. '"}')
  else
    redis.call('SET', 'rate:10.' .. (i % 256) .. '.' .. (math.floor(i / 256) % 256) .. '.' .. i, i % 60, 'EX', month)
  end
end
return total
